#!/usr/bin/env python3
"""Write tests/golden/ (golden logits and layer outputs) from the NumPy integer reference."""

import argparse
import sys

from bsnpu import fileio, golden, paths


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="model prefix (default: models/resnet18_cifar10)")
    parser.add_argument("--data", help="CIFAR-10 binary directory (default: $BSNPU_DATA or ../shared/...)")
    parser.add_argument("--out", default=paths.golden_dir(), help="output directory (default: tests/golden)")
    args = parser.parse_args()
    try:
        golden.write(paths.model_prefix(args.model), paths.data_dir(args.data), args.out)
    except (fileio.FormatError, OverflowError, ArithmeticError) as e:
        print(f"make_golden: error: {e}", file=sys.stderr)
        return 1
    print(f"make_golden: wrote {args.out}/golden.safetensors and golden.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
