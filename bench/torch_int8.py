#!/usr/bin/env python3
"""PyTorch's own int8 path as the speed peer of bench/run_benchmark.sh: the float ResNet-18 as a
plain torch.nn.Module (torchvision-style names, loaded from the shared safetensors), quantized by
FX post-training static quantization on the oneDNN backend (get_default_qconfig_mapping("onednn"),
prepare_fx, calibration on the first N training images, convert_fx), then timed on the first
--images test images in batches, one warm-up batch untimed, torch.set_num_threads(--threads).

The input normalization ((pixel / 255 - mean) / std, as in torchmodel.float_net) runs in float
inside the timed loop, in front of the quantized network."""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from bsnpu import fileio, paths, torchmodel  # noqa: E402


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, eps=torchmodel.BN_EPS)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=torchmodel.BN_EPS)
        self.relu2 = nn.ReLU()
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                                            nn.BatchNorm2d(cout, eps=torchmodel.BN_EPS))

    def forward(self, x):
        y = self.relu1(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu2(y + shortcut)


class ResNet18(nn.Module):
    """CIFAR ResNet-18: 3x3 stem, no max-pool, BasicBlock 64/128/256/512 x 2, avgpool, fc."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, eps=torchmodel.BN_EPS)
        self.relu = nn.ReLU()
        cin = 64
        for stage, (channels, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], start=1):
            setattr(self, f"layer{stage}", nn.Sequential(BasicBlock(cin, channels, stride),
                                                         BasicBlock(channels, channels, 1)))
            cin = channels
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def load_net(model_path):
    tensors, _ = fileio.load_safetensors(model_path)
    params = torchmodel.load_float_params(tensors)
    net = ResNet18()
    missing, unexpected = net.load_state_dict(params, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"{model_path}: tensor names do not match the module: "
                         f"missing {missing}, unexpected {unexpected}")
    with open(model_path.rsplit(".", 1)[0] + ".json") as f:
        card = json.load(f)
    mean, std = torchmodel.input_constants(card)
    return net.eval(), mean.view(1, 3, 1, 1), std.view(1, 3, 1, 1)


def predict(net, images, mean, std, batch):
    out = []
    for i in range(0, len(images), batch):
        x = (torch.from_numpy(images[i:i + batch]).float() / 255.0 - mean) / std
        out.append(net(x).argmax(1))
    return torch.cat(out).numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=int, default=2000, help="first N test images (default 2000)")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--calibration", type=int, default=500,
                        help="first N training images (data_batch_1.bin) to calibrate on (default 500)")
    parser.add_argument("--float-check", action="store_true",
                        help="also report the float module's accuracy on the same images (untimed)")
    parser.add_argument("--data")
    parser.add_argument("--float-model")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args()
    if args.images < 1 or args.batch < 1 or args.calibration < 1:
        parser.error("--images, --batch and --calibration must be positive")

    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.set_num_threads(args.threads)
    torch.backends.quantized.engine = "onednn"
    net, mean, std = load_net(paths.float_model(args.float_model))
    data = paths.data_dir(args.data)
    calib_images, _ = fileio.load_cifar(data, "train", args.calibration)
    images, labels = fileio.load_cifar(data, "test", args.images)

    result = {}
    with torch.no_grad():
        if args.float_check:
            float_correct = int((predict(net, images, mean, std, args.batch) == labels).sum())
            result["float_correct"] = float_correct
        example = ((torch.from_numpy(calib_images[:1]).float() / 255.0 - mean) / std,)
        prepared = prepare_fx(net, get_default_qconfig_mapping("onednn"), example)
        calib_start = time.perf_counter()
        predict(prepared, calib_images, mean, std, args.batch)
        qnet = convert_fx(prepared)
        calib_seconds = time.perf_counter() - calib_start

        predict(qnet, images[:args.batch], mean, std, args.batch)  # warm-up: first-call allocations
        start = time.perf_counter()
        predictions = predict(qnet, images, mean, std, args.batch)
        seconds = time.perf_counter() - start

    result = {"framework": f"torch {torch.__version__} FX static int8 ({torch.backends.quantized.engine})",
              "threads": args.threads, "batch": args.batch, "images": int(len(labels)),
              "correct": int((predictions == labels).sum()), "seconds": seconds,
              "images_per_second": len(labels) / seconds, "calibration_images": int(len(calib_images)),
              "calibration_seconds": calib_seconds, **result}
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
