#!/usr/bin/env python3
"""Make the project's BWB model from the shared float ResNet-18: see bsnpu/quantize.py."""

import argparse
import sys

from bsnpu import fileio, paths, quantize


def main():
    recipe = quantize.default_recipe()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--float-model", help="float safetensors (default: $BSNPU_FLOAT_MODEL or ../shared/models/...)")
    parser.add_argument("--data", help="CIFAR-10 binary directory (default: $BSNPU_DATA or ../shared/datasets/...)")
    parser.add_argument("--out", help="output prefix (default: models/resnet18_cifar10)")
    for key, value in recipe.items():
        if isinstance(value, bool):  # --bn-reestimation / --no-bn-reestimation (ablations only)
            parser.add_argument("--" + key.replace("_", "-"), action=argparse.BooleanOptionalAction,
                                default=value)
        else:
            parser.add_argument("--" + key.replace("_", "-"), type=type(value), default=value)
    args = parser.parse_args()
    for key in recipe:
        recipe[key] = getattr(args, key)
    if not 1 <= recipe["act_bits"] <= 8:
        parser.error("--act-bits must be in 1..8")
    try:
        quantize.build(paths.float_model(args.float_model), paths.data_dir(args.data),
                       paths.model_prefix(args.out), recipe)
    except (fileio.FormatError, ValueError, OverflowError) as e:
        print(f"quantize: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
