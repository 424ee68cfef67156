#!/usr/bin/env python3
"""Markdown table of a bench/run_benchmark.sh run: images/s of every path, the ratio to PyTorch
int8, and each path's share of this machine's int8 MAC peak (OUT_DIR/mac_peak.json), where

    share = images/s x MACs per image / peak MAC/s

with two MAC counts per image, both computed from the model manifest's graph: every conv tap
(out_h * out_w * Cout * Cin * kh * kw, plus the fc's in * out), and only the taps whose input
position lies inside the image (the rest multiply the zero padding).

Reads OUT_DIR/{mac_peak,bsnpu,torch_int8,torch_fp32,eval_small,run_small}.json and the matching
*.time files (/usr/bin/time -v); a missing file drops its rows, with a note.

Usage: bench/summarize.py OUT_DIR [--model PATH/TO/MANIFEST.json]"""

import argparse
import json
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def valid_taps(in_hw, out_hw, kernel, stride, pad):
    """Sum over output rows of the kernel rows whose input row is inside the image (one axis)."""
    return sum(1 for o in range(out_hw) for k in range(kernel) if 0 <= o * stride - pad + k < in_hw)


def mac_counts(manifest):
    """(all MACs, MACs outside zero padding) per image, over every conv and the fc."""
    total = inside = 0
    for op in manifest["graph"]:
        if op["op"] == "conv":
            k, cin, cout, out_hw = op["kernel"], op["in_channels"], op["out_channels"], op["out_hw"]
            total += out_hw * out_hw * cout * cin * k * k
            taps = valid_taps(op["in_hw"], out_hw, k, op["stride"], op["pad"])
            inside += cout * cin * taps * taps  # rows and columns are independent: square image
        elif op["op"] == "fc":
            total += op["in_features"] * op["out_features"]
            inside += op["in_features"] * op["out_features"]
    return total, inside


def load_json(out, name, notes):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        notes.append(f"{name} missing: its rows are left out")
        return None
    with open(path) as f:
        return json.load(f)


def time_report(out, name):
    """(wall seconds, peak RSS MiB) from a /usr/bin/time -v report, or (None, None)."""
    path = os.path.join(out, name + ".time")
    if not os.path.exists(path):
        return None, None
    with open(path) as f:
        text = f.read()
    wall = rss = None
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    if m:
        wall = 0.0
        for part in m.group(1).split(":"):
            wall = wall * 60 + float(part)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m:
        rss = int(m.group(1)) / 1024
    return wall, rss


def read_text(out, name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return "?"
    with open(path) as f:
        return f.read().strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="the OUT_DIR of bench/run_benchmark.sh")
    parser.add_argument("--model", default=os.path.join(REPO, "models", "resnet18_cifar10.json"),
                        help="model manifest for the MAC counts (default: models/resnet18_cifar10.json)")
    args = parser.parse_args()
    out = args.out
    notes = []

    with open(args.model) as f:
        macs_all, macs_inside = mac_counts(json.load(f))
    peak_json = load_json(out, "mac_peak.json", notes)
    peak = peak_json.get("gmacs_per_second") if peak_json else None
    if peak_json and peak is None:
        notes.append(f"no MAC peak: {peak_json.get('error', 'mac_peak measured nothing')}")
    int8 = load_json(out, "torch_int8.json", notes)
    fp32 = load_json(out, "torch_fp32.json", notes)
    bsnpu = load_json(out, "bsnpu.json", notes)
    eval_small = load_json(out, "eval_small.json", notes)
    run_small = load_json(out, "run_small.json", notes)
    base = int8["images_per_second"] if int8 else None

    def share(rate, macs):
        return f"{100 * rate * macs / (peak * 1e9):.1f} %" if peak else "n/a"

    def row(path, images, rate, rss=None):
        ratio = f"{rate / base:.2f}x" if base else "n/a"
        rss_text = f"{rss:.0f} MiB" if rss is not None else ""
        print(f"| {path} | {images} | {rate:.1f} | {ratio} | {share(rate, macs_all)} "
              f"| {share(rate, macs_inside)} | {rss_text} |")

    peak_text = f"{peak:.1f} G MAC/s" if peak else "n/a"
    threads = read_text(out, "threads.txt")
    print(f"Threads: {threads}. int8 MAC peak (vpdpbusd zmm chains on every thread): {peak_text}. "
          f"MACs per image: {macs_all:,} in all, {macs_inside:,} outside the zero padding "
          f"({100 * macs_inside / macs_all:.1f} %).\n")
    print("| path | images | images/s | vs PyTorch int8 | share of peak (all MACs) "
          "| share of peak (outside padding) | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    if int8:
        row(f"PyTorch FX static int8, oneDNN (batch {int8['batch']}, calibrated on "
            f"{int8['calibration_images']} train images)", int8["images"], int8["images_per_second"],
            time_report(out, "torch_int8")[1])
    if fp32:
        row(f"PyTorch eager fp32 (batch {fp32['batch']})", fp32["images"], fp32["images_per_second"],
            time_report(out, "torch_fp32")[1])
    if bsnpu:
        for k, r in sorted(bsnpu["per_bits"].items(), key=lambda item: int(item[0])):
            row(f"bsnpu eval fast k={k}", r["images"], r["images_per_second"])
        total = sum(r["images"] for r in bsnpu["per_bits"].values())
        ks = sorted(int(k) for k in bsnpu["per_bits"])
        span = f"{ks[0]}..{ks[-1]}" if ks == list(range(ks[0], ks[-1] + 1)) else ",".join(map(str, ks))
        row(f"bsnpu eval fast, whole sweep k={span}", total,
            total / bsnpu["seconds"], time_report(out, "bsnpu")[1])
    eval_wall, eval_rss = time_report(out, "eval_small")
    run_wall, run_rss = time_report(out, "run_small")
    if eval_small and eval_wall:
        total = sum(r["images"] for r in eval_small["per_bits"].values())
        row("bsnpu eval, process wall time (incl. loading)", total, total / eval_wall, eval_rss)
    if run_small and run_wall:
        ks = {r.get("bits") for r in run_small.get("results", []) if isinstance(r, dict)}
        ks.discard(None)
        images = run_small["results"][0].get("images") if run_small.get("results") else None
        if ks and isinstance(images, int):
            total = images * len(ks)
            row("bsnpu run (SystemC), process wall time", total, total / run_wall, run_rss)
        else:
            notes.append("run_small.json: cannot tell its image count; its row is left out")

    print()
    if int8:
        print(f"PyTorch int8 accuracy {int8['correct']}/{int8['images']}"
              + (f"; fp32 {fp32['correct']}/{fp32['images']}" if fp32 else "") + ".")
    if bsnpu:
        counts = ", ".join(f"k={k} {r['correct']}" for k, r in
                           sorted(bsnpu["per_bits"].items(), key=lambda item: int(item[0])))
        print(f"bsnpu eval correct of {bsnpu['images']}: {counts}; sweep {bsnpu['seconds']:.1f} s.")
    if eval_wall and run_wall:
        print(f"run / eval wall time (same images, k and threads): "
              f"{run_wall:.1f} s / {eval_wall:.1f} s = {run_wall / eval_wall:.2f}x")
    print(f"load average before: {read_text(out, 'load_before.txt')}; "
          f"after: {read_text(out, 'load_after.txt')}")
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
