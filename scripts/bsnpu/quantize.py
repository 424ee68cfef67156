"""Builds the project's ProgressiveNN model from the shared float ResNet-18.

    /usr/bin/python3 scripts/quantize.py            # writes models/resnet18_cifar10.{safetensors,json}

Per weighted layer: BWB-8 codes + per-output-channel alpha (one set for every k). Per k = 1..8:
BN statistics re-estimated with the k-bit weights in place, activation scales calibrated, a
per-class affine after fc fitted (the fc layer's "BN"), all folded into integer requantization
parameters (int32 multiplier, int64 offset, shift). The recipe is in docs/quantization.md.

Two recipe switches exist for ablations only (docs/accuracy.md): bn_reestimation=False keeps the
float model's BN running statistics, fc_affine=False leaves the fc output as it is (gain 1,
bias 0). Both default to True, which is the shipped model; a manifest written before the switches
existed has no such keys and means True.
"""

import hashlib
import json
import platform
import sys
import time

import numpy as np
import torch

from . import bwb, fileio, graph, intmath, torchmodel

FORMAT = "bsnpu-bwb-model"
FORMAT_VERSION = 1


def default_recipe():
    return {
        "act_bits": 8,
        "accumulator_bits": 32,
        "bn_images": 2000,
        "bn_reestimation": True,
        "calibration_images": 500,
        "calibration_percentile": 99.99,
        "fc_fit_images": 2000,
        "fc_affine": True,
        "fc_fit_iterations": 200,
        "logit_scale_log2": -10,
        "torch_threads": 2,
    }


def log(message):
    print(message, file=sys.stderr, flush=True)


def fold_input_normalization(conv1_weight, card):
    """conv1 over (pixel/255 - mean)/std == conv1 with w/std over (pixel - 255 mean)/255: the
    per-input-channel 1/std moves into the weights, the mean becomes the input zero point."""
    std = np.asarray(card["input"]["std"], dtype=np.float64)
    return (conv1_weight.astype(np.float64) / std.reshape(1, 3, 1, 1)).astype(np.float32)


def input_zero_point(card, act_bits):
    levels = (1 << act_bits) - 1
    return np.floor(np.asarray(card["input"]["mean"], dtype=np.float64) * levels + 0.5).astype(np.int64)


def calibrate_scales(net, images, ops, act_bits, percentile, batch=250):
    """Per-tensor scale = the given percentile of the tensor's values over `images` / (2^a - 1)."""
    names = graph.unsigned_activations(ops)
    samples = {n: [] for n in names}
    captured = {}
    original = net._fq

    def capture(name, y, signed=False):
        if not signed and name in samples and name not in captured:
            captured[name] = True
            samples[name].append(y.detach().flatten().numpy()[::7].copy())
        return y

    net._fq = capture
    with torch.no_grad():
        for i in range(0, len(images), batch):
            captured.clear()
            net.forward(torch.from_numpy(images[i:i + batch]))
    net._fq = original
    levels = (1 << act_bits) - 1
    return {n: float(max(np.percentile(np.concatenate(samples[n]), percentile), 1e-6)) / levels for n in names}


def fit_fc_affine(net, images, labels, iterations):
    """Per-class gain and bias on the fc output, minimizing cross-entropy on training images with
    the network's quantized features fixed (the fc layer's per-k "BN" parameters)."""
    features = []
    with torch.no_grad():
        saved = net.fc_affine
        net.fc_affine = None
        for i in range(0, len(images), 250):
            features.append(net.forward(torch.from_numpy(images[i:i + 250])))
        net.fc_affine = saved
    logits = torch.cat(features).double()
    target = torch.from_numpy(labels.astype(np.int64))
    gain = torch.ones(logits.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(logits.shape[1], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([gain, bias], max_iter=iterations, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits * gain + bias, target)
        loss.backward()
        return loss

    optimizer.step(closure)
    return gain.detach().float(), bias.detach().float()


class Builder:
    def __init__(self, float_tensors, card, train_images, train_labels, recipe):
        self.recipe = recipe
        self.card = card
        self.ops = graph.resnet18_ops()
        self.params = torchmodel.load_float_params(float_tensors)
        self.train_images = train_images
        self.train_labels = train_labels
        self.act_bits = recipe["act_bits"]
        self.zero_point = input_zero_point(card, self.act_bits)
        self.alphas, self.codes = {}, {}
        for op in graph.weighted_ops(self.ops):
            weight = np.asarray(float_tensors[f"{op['name']}.weight"])
            if op["name"] == "conv1":
                weight = fold_input_normalization(weight, card)
            self.alphas[op["name"]] = bwb.channel_scale(weight)
            self.codes[op["name"]] = bwb.encode(weight, self.alphas[op["name"]])

    def quantized_net(self, k):
        return torchmodel.Net(torchmodel.dequantized_weights(self.codes, self.alphas, k),
                              torchmodel.bn_params(self.params), self.params["fc.bias"], "codes",
                              act_bits=self.act_bits,
                              zero_point=torch.from_numpy(self.zero_point.astype(np.float32)))

    def calibrate(self, k):
        """The per-k 'BN set': BN statistics, activation scales, fc affine. Returns the net."""
        r = self.recipe
        net = self.quantized_net(k)
        t0 = time.time()
        if r.get("bn_reestimation", True):
            torchmodel.reestimate_bn(net, self.train_images[:r["bn_images"]])
        # else (an ablation): BN keeps the float model's running statistics
        t1 = time.time()
        net.act_scales = calibrate_scales(net, self.train_images[:r["calibration_images"]], self.ops,
                                          self.act_bits, r["calibration_percentile"])
        t2 = time.time()
        n = r["fc_fit_images"]
        if r.get("fc_affine", True):
            net.fc_affine = fit_fc_affine(net, self.train_images[:n], self.train_labels[:n], r["fc_fit_iterations"])
        else:  # an ablation: identity gain, zero bias (the float fc bias stays)
            classes = self.params["fc.bias"].shape[0]
            net.fc_affine = (torch.ones(classes), torch.zeros(classes))
        log(f"quantize: k={k}: BN re-estimation {t1 - t0:.0f} s, activation calibration {t2 - t1:.0f} s, "
            f"fc affine {time.time() - t2:.0f} s")
        return net

    def integer_parameters(self, k, net):
        """Folds BN, scales and the fc affine into (mult, offset, shift) per output channel."""
        out = {}
        scales = dict(net.act_scales)
        scales["input"] = 1.0 / ((1 << self.act_bits) - 1)
        scales["pool"] = scales[self.ops[-2]["input"]]
        logit_scale = 2.0 ** self.recipe["logit_scale_log2"]
        for op in self.ops:
            if op["op"] == "conv":
                s_in = scales[op["input"]]
                s_out = scales[op["output"]] if op["relu"] else scales[net._add_output(op["output"])]
                bn = net.bn[op["bn"]]
                gain = (bn["weight"] / torch.sqrt(bn["running_var"] + torchmodel.BN_EPS)).double().numpy()
                shift_real = (bn["bias"].double() - bn["running_mean"].double() * torch.from_numpy(gain)).numpy()
                a = gain * self.alphas[op["name"]] * 2.0 ** -k * s_in / s_out
                b = shift_real / s_out
                zero_sum = None
                if op["input"] == "input":
                    q = bwb.levels(self.codes[op["name"]], k).astype(np.int64)
                    zero_sum = (q * self.zero_point.reshape(1, 3, 1, 1)).sum(axis=(1, 2, 3))
                out[op["name"]] = self._channel_params(a, b, zero_sum)
            elif op["op"] == "fc":
                gain, beta = (t.double().numpy() for t in net.fc_affine)
                a = gain * self.alphas["fc"] * 2.0 ** -k * scales["pool"] / logit_scale
                b = (gain * self.params["fc.bias"].double().numpy() + beta) / logit_scale
                out["fc"] = self._channel_params(a, b, None)
            elif op["op"] == "add" and op["rescale_shortcut"]:
                m, _, s = intmath.multiplier(scales[op["input"][1]] / scales[op["output"]])
                out[op["name"]] = {"mult": np.array([m], np.int32), "shift": np.array([s], np.int32)}
        return out, scales

    @staticmethod
    def _channel_params(real_scale, real_offset, zero_sum):
        mult, offset, shift = zip(*(intmath.multiplier(a, b) for a, b in zip(real_scale, real_offset)))
        mult = np.array(mult, np.int64)
        offset = np.array(offset, np.int64)
        if zero_sum is not None:
            offset = offset - mult * zero_sum  # exact: acc(x) - acc(zero point) = acc(x - zero point)
            if np.abs(offset).max() >= intmath.OFFSET_LIMIT:
                raise ValueError("conv1: zero-point correction pushes an offset past 2^61")
        return {"mult": mult.astype(np.int32), "offset": offset, "shift": np.array(shift, np.int32)}


def pool_parameters(hw):
    m, _, s = intmath.multiplier(1.0 / (hw * hw))
    return m, s


def accumulator_bound(op, k, act_bits):
    """Largest |acc| the layer can produce: K * (2^k - 1) * (2^a - 1)."""
    fan_in = op["in_features"] if op["op"] == "fc" else op["in_channels"] * op["kernel"] ** 2
    return fan_in * ((1 << k) - 1) * ((1 << act_bits) - 1)


def training_images_needed(recipe):
    """How many of the first training images the recipe reads (the rest are never used)."""
    counts = [recipe["calibration_images"]]
    if recipe.get("bn_reestimation", True):
        counts.append(recipe["bn_images"])
    if recipe.get("fc_affine", True):
        counts.append(recipe["fc_fit_images"])
    return max(counts)


def build(float_path, data_dir, out_prefix, recipe):
    started = time.time()
    torch.set_num_threads(recipe["torch_threads"])
    torch.manual_seed(0)
    float_tensors, _ = fileio.load_safetensors(float_path)
    card_path = float_path.rsplit(".", 1)[0] + ".json"
    try:
        with open(card_path) as f:
            card = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise fileio.FormatError(f"{card_path}: cannot read the float model card ({e})") from None
    needed = training_images_needed(recipe)
    train_images, train_labels = fileio.load_cifar(data_dir, "train", needed)
    builder = Builder(float_tensors, card, train_images, train_labels, recipe)
    ops = builder.ops
    act_bits = recipe["act_bits"]
    for op in graph.weighted_ops(ops):
        bound = accumulator_bound(op, 8, act_bits)
        if bound >= 1 << (recipe["accumulator_bits"] - 1):
            raise ValueError(f"{op['name']}: worst-case accumulator {bound} overflows "
                             f"{recipe['accumulator_bits']} bits at k=8")

    tensors = {}
    for name in builder.codes:
        tensors[f"{name}.codes"] = builder.codes[name]
        tensors[f"{name}.alpha"] = builder.alphas[name].astype(np.float32)
    per_k = {}
    for k in range(1, 9):
        t0 = time.time()
        net = builder.calibrate(k)
        params, scales = builder.integer_parameters(k, net)
        for layer, values in params.items():
            for field, array in values.items():
                tensors[f"k{k}.{layer}.{field}"] = array
        per_k[str(k)] = {"activation_scales": {n: scales[n] for n in sorted(scales)},
                         "fc_gain": [float(v) for v in net.fc_affine[0]],
                         "fc_bias": [float(v) for v in net.fc_affine[1]]}
        log(f"quantize: k={k} calibrated in {time.time() - t0:.0f} s")

    pool_op = ops[-2]
    pool_mult, pool_shift = pool_parameters(pool_op["in_hw"])
    manifest_ops = []
    for op in ops:
        entry = dict(op)
        if op["op"] in ("conv", "fc"):
            entry["weight"] = f"{op['name']}.codes"
            entry["accumulator_bound_k8"] = accumulator_bound(op, 8, act_bits)
        if op["op"] == "input":
            entry["zero_point"] = [int(z) for z in builder.zero_point]
        if op["op"] == "avgpool":
            entry["mult"], entry["shift"] = pool_mult, pool_shift
        manifest_ops.append(entry)

    out_tensors = out_prefix + ".safetensors"
    fileio.save_safetensors(out_tensors, tensors, {"format": FORMAT, "version": FORMAT_VERSION})
    data_files = fileio.cifar_files(data_dir)
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "description": "ResNet-18 (CIFAR-10) with 8-bit BWB weight codes and one folded BN set per k = 1..8",
        "tensors_file": out_tensors.rsplit("/", 1)[-1],
        "code_bits": bwb.CODE_BITS,
        "bits": list(range(1, 9)),
        "act_bits": act_bits,
        "accumulator_bits": recipe["accumulator_bits"],
        "logit_scale": 2.0 ** recipe["logit_scale_log2"],
        "rounding": "round half away from zero: r = sign(t) * ((|t| + 2^(S-1)) >> S), t = acc * mult + offset (int64)",
        "input": {"zero_point": [int(z) for z in builder.zero_point],
                  "code": "round_half_away(pixel * (2^act_bits - 1) / 255); identity at act_bits = 8",
                  "normalization": "folded: conv1 weights divided by std per input channel, mean is the zero point"},
        "graph": manifest_ops,
        "per_bits": per_k,
        "recipe": recipe,
        "tensors": {name: {"dtype": fileio.NUMPY_TO_SAFETENSORS[np.asarray(a).dtype.newbyteorder("<").str],
                           "shape": list(np.asarray(a).shape), "sha256": fileio.sha256_array(
                               np.asarray(a).astype(np.asarray(a).dtype.newbyteorder("<")))}
                    for name, a in sorted(tensors.items())},
        "provenance": {
            "float_model": {"file": float_path.rsplit("/", 1)[-1], "sha256": fileio.sha256_file(float_path),
                            "card_test_accuracy": card.get("test_accuracy", {}).get("top1")},
            "data": [{"file": f.rsplit("/", 1)[-1], "sha256": fileio.sha256_file(f)} for f in data_files],
            "calibration": f"the first {needed} images of the training batches, in file order",
            "tools": {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
                      "script": "scripts/quantize.py", "script_sha256": _sources_digest()},
        },
    }
    with open(out_prefix + ".json", "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    log(f"quantize: wrote {out_tensors} and {out_prefix}.json in {time.time() - started:.0f} s")
    return manifest


def _sources_digest():
    """sha256 over the bsnpu package sources, so a manifest says which code made it."""
    import glob
    import os
    digest = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(os.path.dirname(__file__), "*.py"))):
        with open(path, "rb") as f:
            digest.update(os.path.basename(path).encode() + b"\0" + f.read())
    return digest.hexdigest()
