"""Per-layer precision in the NumPy reference (reference.layer_bits, requant_params,
intmath.retarget): uniform vectors are exactly the per-k parameters, re-targeting keeps the bounds
of docs/arithmetic.md and is the real factor to within half an LSB of the new multiplier. The
C++ side is compared with this one image by image in CTest (cli.eval_precision_*)."""

import random
from fractions import Fraction

import numpy as np
import pytest

from bsnpu import intmath, reference


def test_uniform_precision_is_exactly_the_per_k_parameters(model):
    for k in range(1, 9):
        params, _ = reference.requant_params(model, reference.layer_bits(model, k))
        for name, p in params.items():
            own = model.params(k, name)
            assert set(p) == set(own), name
            for field in p:
                np.testing.assert_array_equal(p[field], own[field], err_msg=f"{name}.{field} k={k}")


def test_the_three_forms_agree(model):
    names = [op["name"] for op in model.graph if op["op"] in ("conv", "fc")]
    as_list = [8] + [2] * (len(names) - 2) + [8]
    as_dict = {"default": 2, "layers": {"conv1": 8, "fc": 8}}
    assert reference.layer_bits(model, as_list) == reference.layer_bits(model, as_dict)
    assert reference.layer_bits(model, 3) == {n: 3 for n in names}
    for bad in ([8, 8], {"default": 2, "layers": {"conv9": 2}}, {"layers": {"fc": 2}}, "8"):
        with pytest.raises(ValueError):
            reference.layer_bits(model, bad)


def test_a_layer_reading_another_k_is_retargeted_by_the_scale_ratio(model):
    bits = reference.layer_bits(model, {"default": 3, "layers": {"conv1": 8}})
    params, tensor_k = reference.requant_params(model, bits)
    assert tensor_k["stem"] == 8 and tensor_k["layer1.0.mid"] == 3
    factor = model.scale(8, "stem") / model.scale(3, "stem")
    own = model.params(3, "layer1.0.conv1")
    got = params["layer1.0.conv1"]
    for m, s, m2, s2 in zip(own["mult"], own["shift"], got["mult"], got["shift"]):
        exact = Fraction(int(m)) * Fraction(factor) * Fraction(2) ** (int(s2) - int(s))
        assert abs(Fraction(int(m2)) - exact) <= Fraction(1, 2) + Fraction(1, 1 << 20)
    # the offsets (BN shift at this layer's own output scale) stand where the shift does
    same_shift = got["shift"] == own["shift"]
    np.testing.assert_array_equal(got["offset"][same_shift], own["offset"][same_shift])
    # conv1 reads the image: its parameters are its own k's whatever the rest
    np.testing.assert_array_equal(params["conv1"]["mult"], model.params(8, "conv1")["mult"])


def test_retarget_bounds_and_rounding():
    rng = random.Random(7)
    for _ in range(2000):
        m = rng.choice([1, -1]) * rng.randrange(1 << 20, 1 << 31)
        c = rng.choice([1, -1]) * rng.randrange(0, 1 << 61)
        s = rng.randrange(20, 63)
        f = rng.uniform(0.25, 4.0)
        g = rng.choice([1.0, rng.uniform(0.5, 2.0)])
        out = intmath.retarget([m], [c], [s], f, g)
        m2, c2, s2 = int(out["mult"][0]), int(out["offset"][0]), int(out["shift"][0])
        assert abs(m2) < 1 << 31 and 0 <= s2 <= s
        assert abs(c2) < 1 << 61 or (g == 1.0 and s2 == s and c2 == c)
        d = s2 - s
        assert m2 == intmath.round_half_away(float(m) * f * 2.0 ** d)
        # one more bit of shift would not have fit (the shift is kept as large as it can be)
        if d < 0:
            up = intmath.round_half_away(float(m) * f * 2.0 ** (d + 1))
            up_c = intmath.round_half_away(float(c) * g * 2.0 ** (d + 1))
            assert abs(up) >= 1 << 31 or (abs(up_c) >= 1 << 61 and not (g == 1.0 and d + 1 == 0))
    assert intmath.round_half_away(2.5) == 3 and intmath.round_half_away(-2.5) == -3
    assert intmath.round_half_away(0.49999999999999994) == 0
    assert intmath.round_half_away(-1000.5) == -1001
    with pytest.raises(ValueError):
        intmath.retarget([1 << 30], [0], [0], 3.0, 1.0)
