"""Integer post-processing shared by every bsnpu datapath (the arithmetic contract).

requantize(v, M, C, S) = round_half_away_from_zero((v * M + C) / 2^S), computed in int64:
  t = v * M + C;  r = sign(t) * ((|t| + 2^(S-1)) >> S)   (r = t when S = 0)
M is an int32 multiplier, C an int64 offset, S in 0..62. Parameters are chosen so that
|v * M| + |C| < 2^63 for every v the accumulator can hold, so the int64 never overflows.
"""

import math

import numpy as np

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
MAX_SHIFT = 62
OFFSET_LIMIT = 1 << 61


def round_shift(t, shift):
    """Round-half-away-from-zero of t / 2^shift; t int64 array, shift int array (broadcast)."""
    t = np.asarray(t, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    half = np.where(shift > 0, np.left_shift(np.int64(1), np.maximum(shift - 1, 0)), 0)
    magnitude = np.right_shift(np.abs(t) + half, shift)
    return np.where(t < 0, -magnitude, magnitude)


def requantize(acc, mult, offset, shift):
    """acc int64 [..., C] with per-channel mult/offset/shift [C] (last axis is the channel)."""
    return round_shift(np.asarray(acc, dtype=np.int64) * mult.astype(np.int64) + offset.astype(np.int64), shift)


def multiplier(real_scale, real_offset=0.0):
    """(M, C, S) with M / 2^S ~= real_scale (|M| in [2^30, 2^31) when possible) and
    C / 2^S ~= real_offset, |C| < 2^61."""
    real_scale = float(real_scale)
    real_offset = float(real_offset)
    if not math.isfinite(real_scale) or not math.isfinite(real_offset):
        raise ValueError(f"non-finite requantization parameter ({real_scale}, {real_offset})")
    if real_scale == 0.0:
        shift = 30
    else:
        shift = 30 - math.floor(math.log2(abs(real_scale)))
    shift = min(shift, MAX_SHIFT)
    while shift > 0 and abs(real_offset) * 2.0 ** shift >= OFFSET_LIMIT:
        shift -= 1
    if shift < 0 or abs(real_scale) * 2.0 ** shift >= 2.0 ** 31 or abs(real_offset) * 2.0 ** shift >= OFFSET_LIMIT:
        raise ValueError(f"requantization scale {real_scale} / offset {real_offset} not representable")
    mult = int(round(real_scale * 2.0 ** shift))
    mult = max(min(mult, INT32_MAX), INT32_MIN + 1)
    return mult, int(round(real_offset * 2.0 ** shift)), shift


def round_half_away(x):
    """Round half away from zero of a float, exactly (C++ std::round): x - trunc(x) is exact."""
    whole = math.trunc(x)
    if abs(x - whole) >= 0.5:
        whole += 1 if x > 0 else -1
    return int(whole)


MULT_LIMIT = 1 << 31


def retarget(mult, offset, shift, mult_factor, offset_factor):
    """Per-channel (M, C, S) re-targeted by real factors (docs/arithmetic.md, "Mixed precision"):
    for d = 0, -1, -2, ...: M' = round_half_away(M * mult_factor * 2^d) (M itself when the factor
    is exactly 1 and d = 0), C' likewise with offset_factor, S' = S + d; the first d with
    |M'| < 2^31 and |C'| < 2^61 (C' only checked when it changed) wins. offset may be None (an
    add's scalar rescale). Float products in IEEE double, left to right, as the C++ computes them."""
    mult = [int(m) for m in mult]
    shift = [int(s) for s in shift]
    offsets = None if offset is None else [int(c) for c in offset]
    out_m, out_c, out_s = [], [], []
    for o, (m, s) in enumerate(zip(mult, shift)):
        d = 0
        while True:
            if s + d < 0:
                raise ValueError(f"re-targeted requantization of channel {o} does not fit")
            m2 = m if (mult_factor == 1.0 and d == 0) else round_half_away(float(m) * mult_factor * 2.0 ** d)
            if abs(m2) >= MULT_LIMIT:
                d -= 1
                continue
            c2 = None
            if offsets is not None:
                c = offsets[o]
                c2 = c if (offset_factor == 1.0 and d == 0) else round_half_away(float(c) * offset_factor * 2.0 ** d)
                if not (offset_factor == 1.0 and d == 0) and abs(c2) >= OFFSET_LIMIT:
                    d -= 1
                    continue
            out_m.append(m2)
            out_c.append(c2)
            out_s.append(s + d)
            break
    result = {"mult": np.array(out_m, np.int32), "shift": np.array(out_s, np.int32)}
    if offsets is not None:
        result["offset"] = np.array(out_c, np.int64)
    return result


def quantize_unsigned(values, scale, bits):
    """Activation fake-quant code: clamp(round_half_away(values / scale), 0, 2^bits - 1)."""
    return np.clip(np.floor(np.asarray(values, dtype=np.float64) / scale + 0.5), 0, (1 << bits) - 1)
