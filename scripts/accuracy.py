#!/usr/bin/env python3
"""Measure the accuracy table (docs/accuracy.md, docs/accuracy.json). Resumable; 2-3 h on 2 cores.

The ablation rows are added afterwards by scripts/ablation.py (regenerate.sh --accuracy runs both)."""

import argparse
import json
import os
import sys
import time

from bsnpu import accuracy, fileio, paths


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--float-model")
    parser.add_argument("--data")
    parser.add_argument("--model", help="model prefix (default: models/resnet18_cifar10)")
    parser.add_argument("--images", type=int, default=None, help="first N test images (default: all)")
    parser.add_argument("--variants", help="comma-separated subset of: "
                        + ", ".join(key for key, _ in accuracy.VARIANTS) + " (default: all)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--bits", default="1-8", help="k to measure: 1-8, a range A-B or a list (default 1-8)")
    parser.add_argument("--out", default=os.path.join(paths.REPO_ROOT, "docs", "accuracy"),
                        help="output prefix: writes PREFIX.json and PREFIX.md")
    args = parser.parse_args()
    known = [key for key, _ in accuracy.VARIANTS]
    for variant in (args.variants.split(",") if args.variants else []):
        if variant not in known:
            parser.error(f"--variants: unknown variant '{variant}' (known: {', '.join(known)})")
    try:
        if "-" in args.bits:
            low, high = (int(v) for v in args.bits.split("-"))
            bits = list(range(low, high + 1))
        else:
            bits = sorted({int(v) for v in args.bits.split(",")})
    except ValueError:
        bits = []
    if not bits or not all(1 <= k <= 8 for k in bits):
        parser.error(f"--bits: '{args.bits}' is not a range or list of k in 1..8")
    if args.images is not None and args.images < 1:
        parser.error("--images must be at least 1")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    # Fail before the float row (minutes), not after it.
    for path in (paths.float_model(args.float_model), paths.model_prefix(args.model) + ".json"):
        if not os.path.isfile(path):
            print(f"accuracy: error: {path}: no such file", file=sys.stderr)
            return 1
    started = time.time()
    try:
        results = accuracy.measure(paths.float_model(args.float_model), paths.data_dir(args.data),
                                   paths.model_prefix(args.model), args.out + ".json", args.images,
                                   args.variants.split(",") if args.variants else None, args.threads, bits)
    except (fileio.FormatError, OSError) as e:
        print(f"accuracy: error: {e}", file=sys.stderr)
        return 1
    command = "/usr/bin/python3 scripts/accuracy.py" + (f" --images {args.images}" if args.images else "")
    results.setdefault("commands", {})["accuracy"] = command
    with open(args.out + ".json", "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    with open(args.out + ".md", "w") as f:
        f.write(accuracy.markdown(results, command))
    print(f"accuracy: wrote {args.out}.md in {time.time() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
