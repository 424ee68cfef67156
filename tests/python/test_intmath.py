"""Requantization (scripts/bsnpu/intmath.py) against exact Python-integer arithmetic."""

import math

import numpy as np
import pytest

from bsnpu import intmath


def exact_round_shift(t, s):
    """Round half away from zero of t / 2^s in unbounded Python integers."""
    if s == 0:
        return t
    q, r = divmod(abs(t), 1 << s)
    if 2 * r >= (1 << s):
        q += 1
    return q if t >= 0 else -q


def exact_requant(acc, m, c, s):
    return exact_round_shift(acc * m + c, s)


@pytest.mark.parametrize("t,s,expected", [
    (1, 1, 1), (-1, 1, -1),      # +-0.5 -> away from zero
    (3, 1, 2), (-3, 1, -2),      # +-1.5
    (5, 1, 3), (-5, 1, -3),      # +-2.5 -> 3, not 2 (not half-even)
    (2, 2, 1), (-2, 2, -1),      # +-0.5 at shift 2
    (1, 2, 0), (-1, 2, 0),       # +-0.25
    (3, 2, 1), (-3, 2, -1),      # +-0.75
    (6, 2, 2), (-6, 2, -2),      # +-1.5
    (0, 5, 0), (0, 0, 0),
    (-7, 0, -7), (7, 0, 7),      # shift 0 is the identity
    (1 << 61, 62, 1), (-(1 << 61), 62, -1),              # 0.5 at the largest shift
    ((1 << 61) - 1, 62, 0), (-(1 << 61) + 1, 62, 0),
    # the largest |t| the contract can produce: |acc| <= 2^31, |M| < 2^31, |C| < 2^61, so
    # |t| <= 3*2^61 - 2^32 and |t| + 2^(S-1) still fits int64 at S = 62
    (3 * (1 << 61) - (1 << 32), 62, 1), (-3 * (1 << 61) + (1 << 32), 62, -1),
    (3 * (1 << 61) - (1 << 32), 61, 3), (-3 * (1 << 61) + (1 << 32), 1, -3 * (1 << 60) + (1 << 31)),
    ((1 << 62) + (1 << 61) - 1, 62, 1),
])
def test_round_shift_cases(t, s, expected):
    assert exact_round_shift(t, s) == expected
    assert int(intmath.round_shift(np.int64(t), s)) == expected
    assert int(intmath.round_shift(np.array([t], np.int64), np.array([s], np.int32))[0]) == expected


def test_round_shift_random_full_range():
    """Random t over the whole range the contract allows (|t| < 2^62 + 2^61) and every shift."""
    rng = np.random.default_rng(7)
    limit = (1 << 62) + (1 << 61)
    t = rng.integers(-limit + 1, limit, size=4000, dtype=np.int64)
    t[:62] = (np.int64(1) << np.arange(62, dtype=np.int64)) * np.where(np.arange(62) % 2, 1, -1)
    small = rng.integers(-1000, 1000, size=2000, dtype=np.int64)
    t = np.concatenate([t, small])
    s = rng.integers(0, 63, size=t.size)
    got = intmath.round_shift(t, s)
    want = [exact_round_shift(int(a), int(b)) for a, b in zip(t, s)]
    np.testing.assert_array_equal(got, np.array(want, dtype=np.int64))


def test_requantize_per_channel_extremes():
    """acc * M + C at the contract's limits (|acc| < 2^31, |M| < 2^31, |C| < 2^61) stays exact."""
    amax, mmax, cmax = (1 << 31) - 1, (1 << 31) - 1, (1 << 61) - 1
    mult = np.array([mmax, -mmax, mmax, 1, 0, 12345], np.int32)
    offset = np.array([cmax, -cmax, -cmax, 0, -5, 7], np.int64)
    shift = np.array([62, 62, 40, 0, 3, 17], np.int32)
    acc = np.array([[amax, amax, -amax, -amax, 9, -99999],
                    [-amax, -amax, amax, amax, -9, 99999],
                    [0, 1, -1, 2, 3, -4]], np.int64)
    got = intmath.requantize(acc, mult, offset, shift)
    for r in range(acc.shape[0]):
        for c in range(acc.shape[1]):
            assert int(got[r, c]) == exact_requant(int(acc[r, c]), int(mult[c]), int(offset[c]), int(shift[c]))


def test_requantize_random_against_python():
    rng = np.random.default_rng(11)
    channels = 64
    mult = rng.integers(-(1 << 31) + 1, 1 << 31, size=channels).astype(np.int32)
    offset = rng.integers(-(1 << 61) + 1, 1 << 61, size=channels, dtype=np.int64)
    shift = rng.integers(0, 63, size=channels).astype(np.int32)
    acc = rng.integers(-(1 << 31) + 1, 1 << 31, size=(20, channels), dtype=np.int64)
    got = intmath.requantize(acc, mult, offset, shift)
    for r in range(acc.shape[0]):
        for c in range(channels):
            assert int(got[r, c]) == exact_requant(int(acc[r, c]), int(mult[c]), int(offset[c]), int(shift[c]))


def test_requantize_ties_through_offset():
    # acc*M + C = +-2^(S-1): exactly +-0.5 after the shift
    got = intmath.requantize(np.array([[1, -1, 1, -1]], np.int64), np.array([4, 4, 4, 4], np.int32),
                             np.array([0, 0, -8, 8], np.int64), np.array([3, 3, 2, 2], np.int32))
    np.testing.assert_array_equal(got, [[1, -1, -1, 1]])


@pytest.mark.parametrize("scale", [1.0, -1.0, 0.5, 3.0, 1e-9, -2.5e-7, 0.0173, 123.456, 2.0 ** -31, 2.0 ** 29,
                                   math.pi, 1 - 2.0 ** -40, 2.0 ** 30 - 1])
@pytest.mark.parametrize("offset", [0.0, 1.5, -1234.5678])
def test_multiplier_bounds_and_precision(scale, offset):
    m, c, s = intmath.multiplier(scale, offset)
    assert isinstance(m, int) and isinstance(c, int) and isinstance(s, int)
    assert abs(m) < 1 << 31 and abs(c) < 1 << 61 and 0 <= s <= intmath.MAX_SHIFT
    assert abs(c - offset * 2.0 ** s) <= 0.5 + 1e-9 * abs(offset * 2.0 ** s)
    natural = min(30 - math.floor(math.log2(abs(scale))), 62) if scale else 30
    assert s <= natural
    if s == natural and scale != 0:
        # the offset did not limit the shift: full precision
        assert abs(m) >= 1 << 29  # keeps ~31 significant bits
        assert abs(m / 2.0 ** s - scale) <= 2.0 ** -30 * abs(scale)
    else:
        # the offset limited the shift to the largest S with |C| < 2^61; the multiplier's absolute
        # error then costs at most 2^-30 |offset| on any output (|acc| < 2^31)
        assert scale == 0 or abs(offset) * 2.0 ** (s + 1) >= 1 << 61
        assert abs(m / 2.0 ** s - scale) * 2.0 ** 31 <= 2.0 ** -30 * abs(offset)


def test_multiplier_random_scales():
    rng = np.random.default_rng(3)
    for scale in np.exp2(rng.uniform(-32, 30, size=2000)) * rng.choice([-1, 1], size=2000):
        m, c, s = intmath.multiplier(scale, 0.0)
        assert abs(m) < 1 << 31 and c == 0 and 0 <= s <= 62
        assert abs(m / 2.0 ** s - scale) <= 2.0 ** -30 * abs(scale), scale


def test_multiplier_large_offset_lowers_the_shift():
    m, c, s = intmath.multiplier(1e-6, 1e15)
    assert abs(c) < 1 << 61 and abs(m) < 1 << 31 and s >= 0
    assert abs(c / 2.0 ** s - 1e15) <= 2.0 ** -s
    assert abs(m / 2.0 ** s - 1e-6) <= 2.0 ** -s


def test_multiplier_tiny_scale_clamps_the_shift():
    m, c, s = intmath.multiplier(1e-30, 0.0)
    assert s == intmath.MAX_SHIFT and m == 0 and c == 0


@pytest.mark.parametrize("bad", [(float("nan"), 0.0), (float("inf"), 0.0), (-float("inf"), 0.0),
                                 (1.0, float("nan")), (1.0, float("inf")), (1.0, -float("inf"))])
def test_multiplier_rejects_non_finite(bad):
    with pytest.raises(ValueError, match="non-finite"):
        intmath.multiplier(*bad)


@pytest.mark.parametrize("bad", [(2.0 ** 31, 0.0), (-(2.0 ** 40), 0.0), (1.0, 2.0 ** 62), (1.0, -(2.0 ** 70))])
def test_multiplier_rejects_unrepresentable(bad):
    with pytest.raises(ValueError, match="not representable"):
        intmath.multiplier(*bad)


def test_multiplier_then_requantize_matches_real_arithmetic():
    """requant(acc, M, C, S) is within one LSB of round(acc * scale + offset)."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        scale = float(np.exp2(rng.uniform(-20, 0)))
        offset = float(rng.uniform(-300, 300))
        m, c, s = intmath.multiplier(scale, offset)
        acc = rng.integers(-(1 << 24), 1 << 24, size=50, dtype=np.int64)
        got = intmath.requantize(acc.reshape(-1, 1), np.array([m], np.int32), np.array([c], np.int64),
                                 np.array([s], np.int32)).ravel()
        real = acc * scale + offset
        assert np.all(np.abs(got - real) <= 0.5 + 1e-6 * (1 + np.abs(real)))


def test_quantize_unsigned_clamps_and_rounds_half_up():
    got = intmath.quantize_unsigned(np.array([-3.0, 0.0, 0.49, 0.5, 1.5, 254.5, 1000.0]), 1.0, 8)
    np.testing.assert_array_equal(got, [0, 0, 0, 1, 2, 255, 255])
