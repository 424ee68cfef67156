"""Independent NumPy reference of the bsnpu integer datapath (no torch inside).

Convolutions are im2col + a float64 matrix product: every product and partial sum is an integer of
magnitude below 2^53 (the accumulator is checked against 2^31 first), so float64 arithmetic is
exact here and the result equals the integer sum bit for bit, whatever the summation order.
"""

import json
import os

import numpy as np

from . import bwb, fileio, intmath

EXACT_FLOAT32 = 1 << 24
EXACT_FLOAT64 = 1 << 53


class ModelError(fileio.FormatError):
    pass


class Model:
    """The BWB model: manifest + tensors, checked against each other."""

    def __init__(self, prefix):
        manifest_path = prefix + ".json"
        try:
            with open(manifest_path) as f:
                self.manifest = json.load(f)
        except FileNotFoundError:
            raise ModelError(f"{manifest_path}: no such file (run scripts/quantize.py to make the model)") from None
        except json.JSONDecodeError as e:
            raise ModelError(f"{manifest_path}: malformed JSON ({e})") from None
        except OSError as e:
            raise ModelError(f"{manifest_path}: cannot read ({e.strerror})") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != "bsnpu-bwb-model":
            raise ModelError(f"{manifest_path}: field 'format' is not 'bsnpu-bwb-model'")
        try:
            tensors_file = self.manifest["tensors_file"]
            entries = self.manifest["tensors"]
            self.graph = self.manifest["graph"]
            self.act_bits = self.manifest["act_bits"]
            self.acc_limit = 1 << (self.manifest["accumulator_bits"] - 1)
            self.zero_point = np.array(self.manifest["input"]["zero_point"], dtype=np.int64)
            entries = {name: (info["dtype"], info["shape"], info["sha256"]) for name, info in entries.items()}
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            raise ModelError(f"{manifest_path}: manifest field {e} is missing or malformed") from None
        tensor_path = os.path.join(os.path.dirname(manifest_path), tensors_file)
        self.tensors, _ = fileio.load_safetensors(tensor_path)
        for name, (dtype, shape, sha256) in entries.items():
            if name not in self.tensors:
                raise ModelError(f"{tensor_path}: tensor '{name}' listed in the manifest is missing")
            array = self.tensors[name]
            if fileio.NUMPY_TO_SAFETENSORS.get(array.dtype.str) != dtype:
                raise ModelError(f"{tensor_path}: tensor '{name}' has dtype "
                                 f"{fileio.NUMPY_TO_SAFETENSORS.get(array.dtype.str)}, manifest says {dtype}")
            if list(array.shape) != shape:
                raise ModelError(f"{tensor_path}: tensor '{name}' has shape {list(array.shape)}, manifest says {shape}")
            if fileio.sha256_array(array) != sha256:
                raise ModelError(f"{tensor_path}: tensor '{name}' fails its sha256 check (corrupt file)")

    def weights(self, name, k):
        return bwb.levels(self.tensors[f"{name}.codes"], k)

    def params(self, k, name):
        return {f: self.tensors[f"k{k}.{name}.{f}"] for f in ("mult", "offset", "shift")
                if f"k{k}.{name}.{f}" in self.tensors}

    def scale(self, k, tensor):
        """Real value of one code of an unsigned tensor as calibrated at k (per_bits)."""
        return self.manifest["per_bits"][str(k)]["activation_scales"][tensor]


def layer_bits(model, precision):
    """{conv/fc name: k} of a precision as bsnpu takes it (core/precision.h): an int k; a list of
    k, one per conv and fc in graph order; or {"default": k, "layers": {name: k}}."""
    names = [op["name"] for op in model.graph if op["op"] in ("conv", "fc")]
    if isinstance(precision, (int, np.integer)):
        return {n: int(precision) for n in names}
    if isinstance(precision, (list, tuple)):
        if len(precision) != len(names):
            raise ValueError(f"{len(precision)} k for {len(names)} conv/fc layers")
        return {n: int(k) for n, k in zip(names, precision)}
    if isinstance(precision, dict):
        unknown = set(precision.get("layers", {})) - set(names)
        if unknown or set(precision) - {"default", "layers"}:
            raise ValueError(f"unknown layers or keys in {precision}")
        bits = {n: precision.get("layers", {}).get(n, precision.get("default")) for n in names}
        if None in bits.values():
            raise ValueError(f"no default, and layers does not name every conv and fc: {precision}")
        return {n: int(k) for n, k in bits.items()}
    raise ValueError(f"not a precision: {precision!r}")


def requant_params(model, bits):
    """Each op's requantization under per-layer k `bits` ({conv/fc name: k}), as the C++
    requantization() (core/precision.cpp) computes it; docs/arithmetic.md, "Mixed precision".
    Returns (params by op name, the k at whose calibration each tensor really is)."""
    ops = model.graph
    producer = {op["output"]: op for op in ops}
    feeds_add = {}
    for op in ops:
        if op["op"] == "add":
            for t in op["input"]:
                feeds_add[t] = op
    tensor_k = {}  # tensor name -> k (0: the input image, the same at every k)
    scale_name = {}  # tensor name -> the activation_scales key of its scale
    for op in ops:
        out = op["output"]
        if op["op"] == "input":
            tensor_k[out], scale_name[out] = 0, out
        elif op["op"] == "conv" and not op["relu"] and out in feeds_add:
            add = feeds_add[out]
            tensor_k[out] = bits[producer[add["input"][0]]["name"]]
            scale_name[out] = add["output"]
        elif op["op"] in ("conv", "fc"):
            tensor_k[out], scale_name[out] = bits[op["name"]], out
        elif op["op"] == "add":
            tensor_k[out], scale_name[out] = bits[producer[op["input"][0]]["name"]], out
        elif op["op"] == "avgpool":
            tensor_k[out], scale_name[out] = tensor_k[op["input"]], out

    def ratio(tensor, actual, assumed):
        if actual == 0 or actual == assumed:
            return 1.0
        return model.scale(actual, scale_name[tensor]) / model.scale(assumed, scale_name[tensor])

    params = {}
    for op in ops:
        if op["op"] in ("conv", "fc"):
            k = bits[op["name"]]
            p = model.params(k, op["name"])
            mult_factor = ratio(op["input"], tensor_k[op["input"]], k)
            offset_factor = 1.0
            if tensor_k[op["output"]] != k:
                offset_factor = ratio(op["output"], k, tensor_k[op["output"]])
                mult_factor *= offset_factor
            params[op["name"]] = intmath.retarget(p["mult"], p["offset"], p["shift"], mult_factor, offset_factor)
        elif op["op"] == "add" and op["rescale_shortcut"]:
            k = tensor_k[op["output"]]
            p = model.params(k, op["name"])
            shortcut = op["input"][1]
            params[op["name"]] = intmath.retarget(p["mult"], None, p["shift"],
                                                  ratio(shortcut, tensor_k[shortcut], k), 1.0)
    return params, tensor_k


def input_codes(images, act_bits):
    """uint8 pixels -> act_bits codes: round_half_away(pixel * (2^a - 1) / 255)."""
    levels = (1 << act_bits) - 1
    return (images.astype(np.int64) * levels * 2 + 255) // 510


def im2col(x, kernel, stride, pad, pad_value, dtype):
    """x int64 NHWC -> [N*P, kh*kw*C] patches of `dtype`, padding channel c with pad_value[c]."""
    n, h, w, c = x.shape
    padded = np.empty((n, h + 2 * pad, w + 2 * pad, c), dtype=dtype)
    padded[:] = pad_value
    padded[:, pad:pad + h, pad:pad + w, :] = x
    out_h = (h + 2 * pad - kernel) // stride + 1
    out_w = (w + 2 * pad - kernel) // stride + 1
    cols = np.empty((n, out_h, out_w, kernel, kernel, c), dtype=dtype)
    for i in range(kernel):
        for j in range(kernel):
            cols[:, :, :, i, j, :] = padded[:, i:i + stride * out_h:stride, j:j + stride * out_w:stride, :]
    return cols.reshape(n * out_h * out_w, kernel * kernel * c), out_h, out_w


def exact_dtype(bound, where):
    """The cheapest float type whose integers are exact up to `bound`: every partial sum of the
    products is at most `bound` in magnitude, so the product is exact in any summation order."""
    if bound < EXACT_FLOAT32:
        return np.float32
    if bound < EXACT_FLOAT64:
        return np.float64
    raise ArithmeticError(f"{where}: worst case {bound} exceeds exact float64 integers")


def exact_matmul(a, b, limit, where):
    acc = (a @ b).astype(np.int64)
    worst = int(np.abs(acc).max()) if acc.size else 0
    if worst >= limit:
        raise OverflowError(f"{where}: accumulator {worst} overflows the signed {limit.bit_length()}-bit accumulator")
    return acc


def saturate(values, low, high):
    return np.clip(values, low, high)


def precision_params(model, precision):
    """(bits, params) of a precision (layer_bits, requant_params), computed once per model."""
    bits = layer_bits(model, precision)
    key = tuple(sorted(bits.items()))
    cache = model.__dict__.setdefault("_precision_params", {})
    if key not in cache:
        cache[key] = requant_params(model, bits)[0]
    return bits, cache[key]


def run(model, images, precision, keep=False):
    """Integer logits [N, classes] (int64) of uint8 images [N,3,32,32] with each conv/fc at its k
    of `precision` (an int k, or a per-layer precision as layer_bits takes it); with keep=True
    also returns every layer's output (dict name -> int64 array, NCHW or NC). Feature maps are
    NHWC inside, so that im2col copies whole channel vectors."""
    bits, params = precision_params(model, precision)
    a_max = (1 << model.act_bits) - 1
    acts = {}
    pad_values = {}
    for op in model.graph:
        kind = op["op"]
        if kind == "input":
            acts["input"] = input_codes(images, model.act_bits).transpose(0, 2, 3, 1)
            pad_values["input"] = model.zero_point
        elif kind == "conv":
            x = acts[op["input"]]
            pad = pad_values.get(op["input"], np.zeros(x.shape[3], dtype=np.int64))
            k = bits[op["name"]]
            fan_in = op["in_channels"] * op["kernel"] ** 2
            dtype = exact_dtype(fan_in * ((1 << k) - 1) * max(a_max, int(pad.max())), op["name"])
            cols, oh, ow = im2col(x, op["kernel"], op["stride"], op["pad"], pad, dtype)
            q = model.weights(op["name"], k).transpose(0, 2, 3, 1).reshape(op["out_channels"], -1).astype(dtype)
            acc = exact_matmul(cols, q.T, model.acc_limit, op["name"])
            p = params[op["name"]]
            y = intmath.requantize(acc, p["mult"], p["offset"], p["shift"])
            y = saturate(y, 0, a_max) if op["relu"] else saturate(y, intmath.INT32_MIN, intmath.INT32_MAX)
            acts[op["output"]] = y.reshape(x.shape[0], oh, ow, -1)
        elif kind == "add":
            residual, shortcut = (acts[n] for n in op["input"])
            if op["rescale_shortcut"]:
                p = params[op["name"]]
                shortcut = intmath.round_shift(shortcut * np.int64(p["mult"][0]), p["shift"][0])
            acts[op["output"]] = saturate(residual + shortcut, 0, a_max)
        elif kind == "avgpool":
            sums = acts[op["input"]].sum(axis=(1, 2))
            acts[op["output"]] = intmath.round_shift(sums * np.int64(op["mult"]), op["shift"])
        elif kind == "fc":
            k = bits["fc"]
            dtype = exact_dtype(op["in_features"] * ((1 << k) - 1) * a_max, "fc")
            x = acts[op["input"]].astype(dtype)
            acc = exact_matmul(x, model.weights("fc", k).astype(dtype).T, model.acc_limit, "fc")
            p = params["fc"]
            acts[op["output"]] = saturate(intmath.requantize(acc, p["mult"], p["offset"], p["shift"]),
                                          intmath.INT32_MIN, intmath.INT32_MAX)
    if keep:
        return acts["logits"], {n: a.transpose(0, 3, 1, 2) if a.ndim == 4 else a for n, a in acts.items()}
    return acts["logits"]


def predict(model, images, precision, batch=50):
    return np.concatenate([run(model, images[i:i + batch], precision).argmax(axis=1)
                           for i in range(0, len(images), batch)])
