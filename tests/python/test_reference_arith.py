"""reference.run on a tiny synthetic graph against a brute-force Python-integer evaluation of
docs/arithmetic.md: zero-point padding of the input, requantization, ReLU/saturation to
0..2^a-1, int32 clamping of signed conv outputs, residual adds with and without the shortcut
rescale, average pooling, fc, and the accumulator overflow check."""

import numpy as np
import pytest

from bsnpu import bwb, intmath, reference

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
A_MAX = 255


def rs(t, s):
    """round half away from zero of t / 2^s, Python ints"""
    if s == 0:
        return t
    q, r = divmod(abs(t), 1 << s)
    q += 2 * r >= (1 << s)
    return q if t >= 0 else -q


def conv_int(x, q, stride, pad, pad_value):
    """x [N,C,H,W] Python-int object array, q [O,C,kh,kw] int -> acc [N,O,oh,ow] object array."""
    n, c, h, w = x.shape
    o, _, kh, kw = q.shape
    xp = np.empty((n, c, h + 2 * pad, w + 2 * pad), dtype=object)
    for ch in range(c):
        xp[:, ch] = int(pad_value[ch])
    xp[:, :, pad:pad + h, pad:pad + w] = x
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    out = np.zeros((n, o, oh, ow), dtype=object)
    for b in range(n):
        for oc in range(o):
            for y in range(oh):
                for xx in range(ow):
                    patch = xp[b, :, y * stride:y * stride + kh, xx * stride:xx * stride + kw]
                    out[b, oc, y, xx] = int(sum(int(v) for v in (patch * q[oc].astype(object)).ravel()))
    return out


def requant_channels(acc, mult, offset, shift, axis=1):
    out = np.empty(acc.shape, dtype=object)
    for idx in np.ndindex(acc.shape):
        ch = idx[axis]
        out[idx] = rs(int(acc[idx]) * int(mult[ch]) + int(offset[ch]), int(shift[ch]))
    return out


def clip(a, lo, hi):
    return np.vectorize(lambda v: max(lo, min(hi, v)), otypes=[object])(a)


def conv(name, src, dst, cin, cout, k, stride, pad, relu, hw):
    return {"op": "conv", "name": name, "input": src, "output": dst, "in_channels": cin, "out_channels": cout,
            "kernel": k, "stride": stride, "pad": pad, "relu": relu, "in_hw": hw,
            "out_hw": (hw + 2 * pad - k) // stride + 1}


def tiny_model(rng, acc_bits=32):
    pool_m, _, pool_s = intmath.multiplier(1.0 / 9)
    graph = [
        {"op": "input", "name": "input", "output": "input", "shape": [3, 6, 6]},
        conv("c1", "input", "a", 3, 4, 3, 1, 1, True, 6),
        conv("c2", "a", "r", 4, 4, 3, 2, 1, False, 6),
        conv("ds", "a", "sc", 4, 4, 1, 2, 0, False, 6),
        {"op": "add", "name": "add1", "input": ["r", "sc"], "output": "o1", "channels": 4, "hw": 3,
         "rescale_shortcut": False},
        conv("c3", "o1", "r2", 4, 4, 3, 1, 1, False, 3),
        {"op": "add", "name": "add2", "input": ["r2", "o1"], "output": "o2", "channels": 4, "hw": 3,
         "rescale_shortcut": True},
        {"op": "avgpool", "name": "avgpool", "input": "o2", "output": "pool", "channels": 4, "in_hw": 3,
         "mult": pool_m, "shift": pool_s},
        {"op": "fc", "name": "fc", "input": "pool", "output": "logits", "in_features": 4, "out_features": 3},
    ]
    shapes = {"c1": (4, 3, 3, 3), "c2": (4, 4, 3, 3), "ds": (4, 4, 1, 1), "c3": (4, 4, 3, 3), "fc": (3, 4)}
    tensors = {}
    for name, shape in shapes.items():
        tensors[f"{name}.codes"] = rng.integers(0, 256, size=shape, dtype=np.uint8)
    for k in (1, 3, 8):
        for name, shape in shapes.items():
            o = shape[0]
            fan = int(np.prod(shape[1:]))
            # random codes give |acc| ~ sqrt(fan) 2^k 100: scales that map it onto about +-200
            # codes, a channel that saturates high (x8) and one pushed negative by its offset
            real = 2.0 / (np.sqrt(fan) * (1 << k)) * np.array([1, 8, 1, 0.5][:o])
            off = np.array([10.5, 0, -200, 77][:o])
            if name in ("c2", "ds"):
                real[0] = 1.0e7  # signed outputs beyond int32: clamp
            m, c, s = zip(*(intmath.multiplier(a, b) for a, b in zip(real, off)))
            tensors[f"k{k}.{name}.mult"] = np.array(m, np.int32)
            tensors[f"k{k}.{name}.offset"] = np.array(c, np.int64)
            tensors[f"k{k}.{name}.shift"] = np.array(s, np.int32)
        m, _, s = intmath.multiplier(0.6)
        tensors[f"k{k}.add2.mult"] = np.array([m], np.int32)
        tensors[f"k{k}.add2.shift"] = np.array([s], np.int32)
    model = object.__new__(reference.Model)
    model.tensors = tensors
    model.graph = graph
    model.act_bits = 8
    model.acc_limit = 1 << (acc_bits - 1)
    model.zero_point = np.array([125, 123, 114], np.int64)
    return model


def brute_force(model, images, k):
    t = model.tensors
    q = {n: bwb.levels(t[f"{n}.codes"], k) for n in ("c1", "c2", "ds", "c3", "fc")}
    p = {n: (t[f"k{k}.{n}.mult"], t[f"k{k}.{n}.offset"], t[f"k{k}.{n}.shift"]) for n in q}
    x = np.vectorize(lambda v: (int(v) * 255 * 2 + 255) // 510, otypes=[object])(images)
    a = clip(requant_channels(conv_int(x, q["c1"], 1, 1, model.zero_point), *p["c1"]), 0, A_MAX)
    zeros = [0] * 4
    r = clip(requant_channels(conv_int(a, q["c2"], 2, 1, zeros), *p["c2"]), INT32_MIN, INT32_MAX)
    sc = clip(requant_channels(conv_int(a, q["ds"], 2, 0, zeros), *p["ds"]), INT32_MIN, INT32_MAX)
    o1 = clip(r + sc, 0, A_MAX)
    r2 = clip(requant_channels(conv_int(o1, q["c3"], 1, 1, zeros), *p["c3"]), INT32_MIN, INT32_MAX)
    m, s = int(t[f"k{k}.add2.mult"][0]), int(t[f"k{k}.add2.shift"][0])
    o2 = clip(r2 + np.vectorize(lambda v: rs(int(v) * m, s), otypes=[object])(o1), 0, A_MAX)
    pool_op = model.graph[7]
    pool = np.vectorize(lambda v: rs(int(v) * pool_op["mult"], pool_op["shift"]), otypes=[object])(o2.sum(axis=(2, 3)))
    acc = pool.dot(q["fc"].T.astype(object))
    logits = clip(requant_channels(acc, *p["fc"]), INT32_MIN, INT32_MAX)
    return logits, {"a": a, "r": r, "sc": sc, "o1": o1, "r2": r2, "o2": o2, "pool": pool}


@pytest.mark.parametrize("k", [1, 3, 8])
def test_reference_matches_brute_force(k):
    rng = np.random.default_rng(100 + k)
    model = tiny_model(rng)
    images = rng.integers(0, 256, size=(2, 3, 6, 6), dtype=np.uint8)
    images[0, :, 0, :] = 255  # bright border: padding with the zero point matters
    logits, acts = reference.run(model, images, k, keep=True)
    want_logits, want = brute_force(model, images, k)
    for name, value in want.items():
        np.testing.assert_array_equal(acts[name], value.astype(np.int64), err_msg=name)
    np.testing.assert_array_equal(logits, want_logits.astype(np.int64))
    # the synthetic parameters really exercise the clamps
    assert acts["a"].max() == A_MAX and acts["a"].min() == 0
    assert acts["r"].max() == INT32_MAX or acts["sc"].max() == INT32_MAX or \
        acts["r"].min() == INT32_MIN or acts["sc"].min() == INT32_MIN


def test_zero_padding_of_the_input_would_differ():
    """Guard that the brute force is sensitive to the input padding value."""
    rng = np.random.default_rng(101)
    model = tiny_model(rng)
    images = rng.integers(0, 256, size=(1, 3, 6, 6), dtype=np.uint8)
    a = reference.run(model, images, 8, keep=True)[1]["a"]
    model.zero_point = np.zeros(3, np.int64)
    assert not np.array_equal(reference.run(model, images, 8, keep=True)[1]["a"], a)


def test_accumulator_overflow_is_an_error():
    rng = np.random.default_rng(102)
    model = tiny_model(rng, acc_bits=12)
    images = rng.integers(0, 256, size=(1, 3, 6, 6), dtype=np.uint8)
    with pytest.raises(OverflowError, match="c1"):
        reference.run(model, images, 8)


def test_input_codes():
    px = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(reference.input_codes(px, 8), np.arange(256))
    got = reference.input_codes(px, 4)
    want = [int(np.floor(v * 15 / 255 + 0.5)) for v in range(256)]
    np.testing.assert_array_equal(got, want)
