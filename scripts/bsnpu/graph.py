"""The ResNet-18 (CIFAR variant) graph as a flat list of integer operations.

The same list is written into the model manifest, and the NumPy reference, the PyTorch fake-quant
model and the C++ engine all walk it in order. Tensor names are torchvision's, so a layer's
weights are `<name>.weight` in the float model and `<name>.codes` in the BWB model.
"""

STAGES = [(64, 1), (128, 2), (256, 2), (512, 2)]
BLOCKS_PER_STAGE = 2
NUM_CLASSES = 10
IMAGE_SHAPE = [3, 32, 32]


def _conv(name, src, dst, cin, cout, k, stride, pad, relu, bn, hw):
    out_hw = (hw + 2 * pad - k) // stride + 1
    return {"op": "conv", "name": name, "input": src, "output": dst, "in_channels": cin,
            "out_channels": cout, "kernel": k, "stride": stride, "pad": pad, "relu": relu,
            "bn": bn, "in_hw": hw, "out_hw": out_hw}


def resnet18_ops():
    """Ordered ops. Convs with relu=False feed an `add` and produce signed int32 at the scale of
    the block's output; every other activation is unsigned act_bits."""
    ops = [{"op": "input", "name": "input", "output": "input", "shape": IMAGE_SHAPE}]
    ops.append(_conv("conv1", "input", "stem", 3, 64, 3, 1, 1, True, "bn1", 32))
    src, cin, hw = "stem", 64, 32
    for stage, (channels, first_stride) in enumerate(STAGES, start=1):
        for block in range(BLOCKS_PER_STAGE):
            prefix = f"layer{stage}.{block}"
            stride = first_stride if block == 0 else 1
            c1 = _conv(f"{prefix}.conv1", src, f"{prefix}.mid", cin, channels, 3, stride, 1, True,
                       f"{prefix}.bn1", hw)
            out_hw = c1["out_hw"]
            c2 = _conv(f"{prefix}.conv2", f"{prefix}.mid", f"{prefix}.residual", channels, channels, 3, 1, 1,
                       False, f"{prefix}.bn2", out_hw)
            ops += [c1, c2]
            shortcut = src
            if stride != 1 or cin != channels:
                shortcut = f"{prefix}.shortcut"
                ops.append(_conv(f"{prefix}.downsample.0", src, shortcut, cin, channels, 1, stride, 0, False,
                                 f"{prefix}.downsample.1", hw))
            ops.append({"op": "add", "name": f"{prefix}.add", "input": [f"{prefix}.residual", shortcut],
                        "output": f"{prefix}.out", "channels": channels, "hw": out_hw,
                        "rescale_shortcut": shortcut == src})
            src, cin, hw = f"{prefix}.out", channels, out_hw
    ops.append({"op": "avgpool", "name": "avgpool", "input": src, "output": "pool", "channels": cin, "in_hw": hw})
    ops.append({"op": "fc", "name": "fc", "input": "pool", "output": "logits", "in_features": cin,
                "out_features": NUM_CLASSES})
    return ops


def weighted_ops(ops):
    return [op for op in ops if op["op"] in ("conv", "fc")]


def unsigned_activations(ops):
    """Names of the unsigned act_bits tensors whose scale is calibrated (the pool shares its input's)."""
    names = []
    for op in ops:
        if op["op"] == "conv" and op["relu"]:
            names.append(op["output"])
        elif op["op"] == "add":
            names.append(op["output"])
    return names
