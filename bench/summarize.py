#!/usr/bin/env python3
"""Markdown table of a bench/run_benchmark.sh run: images/s of every path, the ratio to PyTorch
int8, and each path's share of this machine's int8 MAC peak (OUT_DIR/mac_peak.json), where

    share = images/s x MACs per image / peak MAC/s

with two MAC counts per image, both computed from the model manifest's graph: every conv tap
(out_h * out_w * Cout * Cin * kh * kw, plus the fc's in * out), and only the taps whose input
position lies inside the image (the rest multiply the zero padding).

The script runs bsnpu eval, PyTorch int8 and the eval/run pair BENCH_REPEATS times, interleaved
(OUT_DIR/NAME_R.json and NAME_R.time for R = 1, 2, ...). Each rate is the median over the
repeats with its range; the ratio to PyTorch int8 is the median (and range) of the ratios of the
same repeat, measured minutes apart at most.

Reads OUT_DIR/{mac_peak,torch_fp32}.json, OUT_DIR/{bsnpu,torch_int8,eval_small,run_small}_R.json
and the matching *.time files (/usr/bin/time -v); a missing file drops its rows, with a note.

Usage: bench/summarize.py OUT_DIR [--model PATH/TO/MANIFEST.json]"""

import argparse
import json
import os
import re
import statistics
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


def repeats(out, name):
    """The numbers R of OUT_DIR/NAME_R.json, in order."""
    found = []
    for entry in os.listdir(out):
        m = re.fullmatch(re.escape(name) + r"_(\d+)\.json", entry)
        if m:
            found.append(int(m.group(1)))
    return sorted(found)


def spread(values):
    """'median (min-max)' of a list of rates or ratios, or just the value for one."""
    med = statistics.median(values)
    if len(values) == 1:
        return med, ""
    return med, f" ({min(values):.{2 if med < 10 else 1}f}-{max(values):.{2 if med < 10 else 1}f})"


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
    fp32 = load_json(out, "torch_fp32.json", notes)

    def series(name):
        """{R: the JSON of repeat R} of NAME_R.json."""
        return {r: load_json(out, f"{name}_{r}.json", notes) for r in repeats(out, name)}

    int8 = series("torch_int8")
    bsnpu = series("bsnpu")
    eval_small = series("eval_small")
    run_small = series("run_small")
    if not int8:
        notes.append("no torch_int8_R.json: no ratios to PyTorch int8")

    def share(rate, macs):
        return f"{100 * rate * macs / (peak * 1e9):.1f} %" if peak else "n/a"

    def row(path, images, rates, rss=None, reference=False):
        """rates: {R: images/s}; the ratio pairs each repeat with PyTorch int8's same repeat."""
        rate, rate_range = spread(list(rates.values()))
        ratios = [rates[r] / int8[r]["images_per_second"] for r in rates if r in int8]
        ratio_text = "n/a"
        if reference:
            ratio_text = "1.00x"
        elif ratios:
            ratio, ratio_range = spread(ratios)
            ratio_text = f"{ratio:.2f}x{ratio_range}"
        rss_text = f"{rss:.0f} MiB" if rss is not None else ""
        print(f"| {path} | {images} | {rate:.1f}{rate_range} | {ratio_text} | "
              f"{share(rate, macs_all)} | {share(rate, macs_inside)} | {rss_text} |")

    def max_rss(name, runs):
        values = [time_report(out, f"{name}_{r}")[1] for r in runs]
        values = [v for v in values if v is not None]
        return max(values) if values else None

    peak_text = f"{peak:.1f} G MAC/s" if peak else "n/a"
    threads = read_text(out, "threads.txt")
    print(f"Threads: {threads}. int8 MAC peak (vpdpbusd zmm chains on every thread): {peak_text}. "
          f"MACs per image: {macs_all:,} in all, {macs_inside:,} outside the zero padding "
          f"({100 * macs_inside / macs_all:.1f} %). Repeats: {len(bsnpu)} of bsnpu eval, "
          f"{len(int8)} of PyTorch int8, interleaved; rates are medians (range).\n")
    print("| path | images | images/s | vs PyTorch int8 (same repeat) | share of peak (all MACs) "
          "| share of peak (outside padding) | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    if int8:
        first = next(iter(int8.values()))
        row(f"PyTorch FX static int8, oneDNN (batch {first['batch']}, calibrated on "
            f"{first['calibration_images']} train images)", first["images"],
            {r: j["images_per_second"] for r, j in int8.items()}, max_rss("torch_int8", int8),
            reference=True)
    if fp32:
        rate = fp32["images_per_second"]
        ratio = f"{rate / statistics.median(j['images_per_second'] for j in int8.values()):.2f}x" \
            if int8 else "n/a"
        rss = time_report(out, "torch_fp32")[1]
        print(f"| PyTorch eager fp32 (batch {fp32['batch']}, run once) | {fp32['images']} | "
              f"{rate:.1f} | {ratio} (to the median) | {share(rate, macs_all)} | "
              f"{share(rate, macs_inside)} | {f'{rss:.0f} MiB' if rss is not None else ''} |")
    if bsnpu:
        first = next(iter(bsnpu.values()))
        for k in sorted(first["per_bits"], key=int):
            row(f"bsnpu eval fast k={k}", first["per_bits"][k]["images"],
                {r: j["per_bits"][k]["images_per_second"] for r, j in bsnpu.items()})
        total = sum(r["images"] for r in first["per_bits"].values())
        ks = sorted(int(k) for k in first["per_bits"])
        span = f"{ks[0]}..{ks[-1]}" if ks == list(range(ks[0], ks[-1] + 1)) else ",".join(map(str, ks))
        row(f"bsnpu eval fast, whole sweep k={span}", total,
            {r: total / j["seconds"] for r, j in bsnpu.items()}, max_rss("bsnpu", bsnpu))
    walls = {}
    for name, runs in (("eval_small", eval_small), ("run_small", run_small)):
        walls[name] = {r: time_report(out, f"{name}_{r}")[0] for r in runs}
        walls[name] = {r: w for r, w in walls[name].items() if w}
    if eval_small and walls["eval_small"]:
        first = next(iter(eval_small.values()))
        total = sum(r["images"] for r in first["per_bits"].values())
        row("bsnpu eval, process wall time (incl. loading)", total,
            {r: total / w for r, w in walls["eval_small"].items()}, max_rss("eval_small", eval_small))
    if run_small and walls["run_small"]:
        first = next(iter(run_small.values()))
        ks = {r.get("bits") for r in first.get("results", []) if isinstance(r, dict)}
        ks.discard(None)
        images = first["results"][0].get("images") if first.get("results") else None
        if ks and isinstance(images, int):
            total = images * len(ks)
            row("bsnpu run (SystemC), process wall time", total,
                {r: total / w for r, w in walls["run_small"].items()}, max_rss("run_small", run_small))
        else:
            notes.append("run_small_R.json: cannot tell its image count; its row is left out")

    print()
    if int8:
        first = next(iter(int8.values()))
        print(f"PyTorch int8 accuracy {first['correct']}/{first['images']}"
              + (f"; fp32 {fp32['correct']}/{fp32['images']}" if fp32 else "") + ".")
    if bsnpu:
        first = next(iter(bsnpu.values()))
        counts = ", ".join(f"k={k} {r['correct']}" for k, r in
                           sorted(first["per_bits"].items(), key=lambda item: int(item[0])))
        seconds = ", ".join(f"{j['seconds']:.1f}" for j in bsnpu.values())
        print(f"bsnpu eval correct of {first['images']}: {counts}; sweep {seconds} s.")
    pairs = [(walls["run_small"][r], walls["eval_small"][r]) for r in walls.get("run_small", {})
             if r in walls.get("eval_small", {})]
    if pairs:
        ratio, ratio_range = spread([run / ev for run, ev in pairs])
        text = ", ".join(f"{run:.1f} s / {ev:.1f} s" for run, ev in pairs)
        print(f"run / eval wall time (same images, k and threads; each repeat): {text}; "
              f"median {ratio:.2f}x{ratio_range}")
    print(f"load average before: {read_text(out, 'load_before.txt')}; "
          f"after: {read_text(out, 'load_after.txt')}")
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
