#!/usr/bin/env python3
"""PyTorch CPU eager fp32 inference of the float ResNet-18 on the CIFAR-10 test images: the
baseline of bench/run_benchmark.sh. Uses the project's functional float model
(scripts/bsnpu/torchmodel.float_net) in batches, like torchmodel.predict."""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))

import torch  # noqa: E402

from bsnpu import fileio, paths, torchmodel  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=int, default=None, help="first N test images (default: all)")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--data")
    parser.add_argument("--float-model")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model_path = paths.float_model(args.float_model)
    tensors, _ = fileio.load_safetensors(model_path)
    with open(model_path.rsplit(".", 1)[0] + ".json") as f:
        card = json.load(f)
    net = torchmodel.float_net(torchmodel.load_float_params(tensors), card)
    images, labels = fileio.load_cifar(paths.data_dir(args.data), "test", args.images)
    with torch.no_grad():
        net.forward(torch.from_numpy(images[:args.batch]))  # warm-up: first-call allocations
        start = time.perf_counter()
        predictions = torchmodel.predict(net, images, batch=args.batch)
        seconds = time.perf_counter() - start
    result = {"framework": f"torch {torch.__version__} eager fp32", "threads": args.threads,
              "batch": args.batch, "images": int(len(labels)),
              "correct": int((predictions == labels).sum()), "seconds": seconds,
              "images_per_second": len(labels) / seconds}
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
