"""Bitwise-binary (BWB) weight codec.

An N-bit code u = (c_1 ... c_N)_2 stands for the planes b_i = 2 c_i - 1 in {-1, +1}; its value is
q_N = 2u + 1 - 2^N (odd, in [-(2^N - 1), 2^N - 1]) and w ~= alpha * q_N / 2^N. Keeping the first k
planes is u >> (N - k): the k-bit quantizer of the same family (proved in docs/arithmetic.md and
tested in tests/python/test_bwb.py).
"""

import numpy as np

CODE_BITS = 8


def channel_scale(weight):
    """alpha per output channel: max |w| over the channel, so q = +-(2^N - 1) reach the extremes."""
    flat = np.abs(weight.reshape(weight.shape[0], -1)).max(axis=1).astype(np.float64)
    return np.where(flat > 0, flat, 1.0)


def encode(weight, alpha, bits=CODE_BITS):
    """Nearest BWB level: u = clamp(floor((w / alpha * 2^bits + 2^bits) / 2), 0, 2^bits - 1)."""
    shape = (-1,) + (1,) * (weight.ndim - 1)
    t = weight.astype(np.float64) / alpha.reshape(shape) * (1 << bits)
    u = np.floor((t + (1 << bits)) / 2.0)
    return np.clip(u, 0, (1 << bits) - 1).astype(np.uint8 if bits <= 8 else np.uint16)


def truncate(codes, k, bits=CODE_BITS):
    """The k-plane code: the first (most significant) k planes."""
    if not 1 <= k <= bits:
        raise ValueError(f"k={k} outside 1..{bits}")
    return codes >> (bits - k)


def levels(codes, k, bits=CODE_BITS):
    """q_k = 2 u_k + 1 - 2^k as int32: the signed odd integer the MAC array multiplies by."""
    return 2 * truncate(codes, k, bits).astype(np.int32) + 1 - (1 << k)


def decode(codes, alpha, k, bits=CODE_BITS):
    shape = (-1,) + (1,) * (codes.ndim - 1)
    return levels(codes, k, bits).astype(np.float64) * alpha.reshape(shape) / (1 << k)


def planes(codes, k, bits=CODE_BITS):
    """[k, ...] array of +-1 planes, MSB first."""
    return np.stack([2 * ((codes >> (bits - 1 - i)) & 1).astype(np.int32) - 1 for i in range(k)])
