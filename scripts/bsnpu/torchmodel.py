"""PyTorch view of the ResNet-18 graph, used for training, BN re-estimation/fine-tuning,
activation calibration and the fake-quant cross-check of the integer reference.

It is deliberately separate from reference.py (NumPy integer datapath): the two agree only
through the documented arithmetic, which is what the cross-check tests.
"""

import numpy as np
import torch
import torch.nn.functional as F

from . import bwb, graph

BN_EPS = 1e-5


def load_float_params(tensors):
    """float32 torch tensors keyed by torchvision name, from the shared safetensors dict."""
    return {name: torch.from_numpy(np.array(array, dtype=np.float32)) for name, array in tensors.items()}


def input_constants(card):
    mean = torch.tensor(card["input"]["mean"], dtype=torch.float32)
    std = torch.tensor(card["input"]["std"], dtype=torch.float32)
    return mean, std


class Net:
    """Functional ResNet-18 over graph.resnet18_ops().

    weights:  name -> float weight used by conv/fc (float, or BWB-dequantized at some k)
    bn:       bn name -> dict(weight, bias, running_mean, running_var)
    fc_bias:  fc bias
    input mode 'float': normalized input with zero padding (the float model as trained);
               'codes': uint8 pixel codes with the integer datapath's zero-point handling,
                        conv1 weights pre-divided by std (see quantize.fold_input_normalization).
    act_scales: name -> scale for fake-quantized unsigned activations (None: float activations).
    """

    def __init__(self, weights, bn, fc_bias, input_mode="float", mean=None, std=None, act_bits=8,
                 act_scales=None, zero_point=None, fc_affine=None):
        self.ops = graph.resnet18_ops()
        self.weights = weights
        self.bn = bn
        self.fc_bias = fc_bias
        self.input_mode = input_mode
        self.mean, self.std = mean, std
        self.act_bits = act_bits
        self.act_scales = act_scales
        self.zero_point = zero_point
        self.fc_affine = fc_affine  # optional (gain, bias) per class, trained per k
        self.bn_collect = None  # when a dict: normalize with batch stats and record them

    def _bn(self, name, y):
        p = self.bn[name]
        if self.bn_collect is not None:
            dims = (0, 2, 3)
            mean = y.mean(dims)
            var = y.var(dims, unbiased=False)
            stats = self.bn_collect.setdefault(name, [0, torch.zeros_like(mean), torch.zeros_like(var)])
            count = y.numel() // y.shape[1]
            stats[0] += 1
            stats[1] += mean.detach()
            stats[2] += var.detach() * count / max(count - 1, 1)
        else:
            mean, var = p["running_mean"], p["running_var"]
        scale = p["weight"] / torch.sqrt(var + BN_EPS)
        return y * scale.view(1, -1, 1, 1) + (p["bias"] - mean * scale).view(1, -1, 1, 1)

    def _fq(self, name, y, signed=False):
        """Fake-quantize to the scale of activation `name` (straight-through gradient)."""
        if self.act_scales is None:
            return y
        s = self.act_scales[name]
        q = torch.sign(y) * torch.floor(torch.abs(y) / s + 0.5)
        if not signed:
            q = torch.clamp(q, 0, (1 << self.act_bits) - 1)
        return y + (q * s - y).detach()

    def _input(self, images):
        x = images.float()
        if self.input_mode == "float":
            x = (x / 255.0 - self.mean.view(1, 3, 1, 1)) / self.std.view(1, 3, 1, 1)
            return x
        levels = (1 << self.act_bits) - 1
        codes = torch.floor(x * levels / 255.0 + 0.5)
        return (codes - self.zero_point.view(1, 3, 1, 1)) / levels

    def forward(self, images):
        acts = {}
        for op in self.ops:
            kind = op["op"]
            if kind == "input":
                acts["input"] = self._input(images)
            elif kind == "conv":
                y = F.conv2d(acts[op["input"]], self.weights[op["name"]], stride=op["stride"], padding=op["pad"])
                y = self._bn(op["bn"], y)
                if op["relu"]:
                    y = self._fq(op["output"], F.relu(y))
                else:
                    y = self._fq(self._add_output(op["output"]), y, signed=True)
                acts[op["output"]] = y
            elif kind == "add":
                residual, shortcut = acts[op["input"][0]], acts[op["input"][1]]
                if op["rescale_shortcut"]:
                    shortcut = self._fq(op["output"], shortcut, signed=True)
                acts[op["output"]] = self._fq(op["output"], F.relu(residual + shortcut))
            elif kind == "avgpool":
                pooled = acts[op["input"]].mean((2, 3))
                acts[op["output"]] = self._fq(op["input"], pooled)
            elif kind == "fc":
                logits = F.linear(acts[op["input"]], self.weights["fc"], self.fc_bias)
                if self.fc_affine is not None:
                    logits = logits * self.fc_affine[0] + self.fc_affine[1]
                acts[op["output"]] = logits
        return acts["logits"]

    def _add_output(self, tensor):
        """The add whose first input is `tensor` (conv2 or downsample output share its scale)."""
        for op in self.ops:
            if op["op"] == "add" and tensor in op["input"]:
                return op["output"]
        raise KeyError(tensor)


def float_net(params, card):
    mean, std = input_constants(card)
    weights = {op["name"]: params[f"{op['name']}.weight"] for op in graph.weighted_ops(graph.resnet18_ops())}
    return Net(weights, bn_params(params), params["fc.bias"], "float", mean, std)


def bn_params(params):
    names = sorted({n.rsplit(".", 1)[0] for n in params if n.endswith(".running_mean")})
    return {n: {f: params[f"{n}.{f}"].clone() for f in ("weight", "bias", "running_mean", "running_var")}
            for n in names}


@torch.no_grad()
def predict(net, images, batch=500):
    """Top-1 class of every image (uint8 [N,3,32,32] numpy)."""
    out = []
    for i in range(0, len(images), batch):
        out.append(net.forward(torch.from_numpy(images[i:i + batch])).argmax(1))
    return torch.cat(out).numpy()


@torch.no_grad()
def reestimate_bn(net, images, batch=250):
    """Replace every BN running mean/var by the average of batch statistics over `images`
    (PyTorch's cumulative moving average, momentum=None)."""
    net.bn_collect = {}
    for i in range(0, len(images), batch):
        net.forward(torch.from_numpy(images[i:i + batch]))
    for name, (count, mean_sum, var_sum) in net.bn_collect.items():
        net.bn[name]["running_mean"] = mean_sum / count
        net.bn[name]["running_var"] = var_sum / count
    net.bn_collect = None


def dequantized_weights(codes, alphas, k):
    return {name: torch.from_numpy(bwb.decode(codes[name], alphas[name], k).astype(np.float32))
            for name in codes}
