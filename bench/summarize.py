#!/usr/bin/env python3
"""Markdown table of a bench/run_benchmark.sh run (reads OUT_DIR/{bsnpu,torch}.{json,time})."""

import json
import re
import sys


def peak_mib(time_file):
    with open(time_file) as f:
        kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read()).group(1))
    return kib / 1024


def main():
    out = sys.argv[1]
    with open(f"{out}/bsnpu.json") as f:
        bsnpu = json.load(f)
    with open(f"{out}/torch.json") as f:
        torch = json.load(f)
    base = torch["images_per_second"]
    print(f"| path | images | images/s | vs PyTorch fp32 | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    print(f"| PyTorch eager fp32 ({torch['framework']}, batch {torch['batch']}) | {torch['images']} "
          f"| {base:.1f} | 1.00x | {peak_mib(out + '/torch.time'):.0f} MiB |")
    bsnpu_peak = peak_mib(out + "/bsnpu.time")
    for k, row in sorted(bsnpu["per_bits"].items(), key=lambda item: int(item[0])):
        rate = row["images_per_second"]
        print(f"| bsnpu fast k={k} | {row['images']} | {rate:.1f} | {rate / base:.2f}x | (sweep) |")
    total = sum(row["images"] for row in bsnpu["per_bits"].values())
    print(f"| bsnpu fast, whole sweep k=1..8 | {total} | {total / bsnpu['seconds']:.1f} "
          f"| {total / bsnpu['seconds'] / base:.2f}x | {bsnpu_peak:.0f} MiB |")
    print(f"\nsweep: {bsnpu['seconds']:.1f} s on {bsnpu['threads']} threads; "
          f"PyTorch: {torch['seconds']:.1f} s on {torch['threads']} threads "
          f"(float accuracy {torch['correct']}/{torch['images']})")


if __name__ == "__main__":
    main()
