"""Properties of the BWB codec (scripts/bsnpu/bwb.py) that the arithmetic contract relies on."""

import numpy as np
import pytest

from bsnpu import bwb

KS = range(1, 9)


def weights_with_edges(rng, channels=4, per_channel=600):
    """Random weights in [-alpha, alpha] per channel, plus every 8-bit level and every decision
    boundary between levels (w/alpha = m/256 for all m), both extremes and zero."""
    alpha = rng.uniform(0.01, 3.0, size=channels)
    grid = np.arange(-256, 257) / 256.0
    rand = rng.uniform(-1.0, 1.0, size=(channels, per_channel))
    unit = np.concatenate([np.broadcast_to(grid, (channels, grid.size)), rand], axis=1)
    return (unit * alpha[:, None]).reshape(channels, -1, 1, 1), alpha


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("k", KS)
def test_truncation_equals_direct_k_bit_encoding(rng, k):
    w, alpha = weights_with_edges(rng)
    codes8 = bwb.encode(w, alpha)
    direct = bwb.encode(w, alpha, bits=k)
    np.testing.assert_array_equal(bwb.truncate(codes8, k), direct)
    # also outside [-alpha, alpha] (clamped): the two clamps agree
    wide = w * 1.7
    np.testing.assert_array_equal(bwb.truncate(bwb.encode(wide, alpha), k), bwb.encode(wide, alpha, bits=k))


def test_truncation_equals_direct_on_float32_weights(rng):
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    alpha = bwb.channel_scale(w)
    codes8 = bwb.encode(w, alpha)
    for k in KS:
        np.testing.assert_array_equal(bwb.truncate(codes8, k), bwb.encode(w, alpha, bits=k))


@pytest.mark.parametrize("k", KS)
def test_levels_are_odd_and_bounded(k):
    codes = np.arange(256, dtype=np.uint8)
    q = bwb.levels(codes, k)
    assert q.dtype == np.int32
    assert np.all(q % 2 == 1)  # odd: no zero level
    assert np.abs(q).max() == (1 << k) - 1
    # exactly the 2^k odd levels, each reached by 2^(8-k) codes
    values, counts = np.unique(q, return_counts=True)
    np.testing.assert_array_equal(values, np.arange(-(1 << k) + 1, 1 << k, 2))
    assert np.all(counts == 1 << (8 - k))
    # decode gives odd multiples of alpha * 2^-k
    alpha = np.array([0.75])
    d = bwb.decode(codes.reshape(1, -1), alpha, k)
    np.testing.assert_array_equal(d / 0.75 * (1 << k), q.reshape(1, -1))


@pytest.mark.parametrize("k", KS)
def test_error_bound_and_nearest_level(rng, k):
    w, alpha = weights_with_edges(rng)
    codes = bwb.encode(w, alpha)
    err = np.abs(w - bwb.decode(bwb.truncate(codes, k), alpha, k, bits=k))
    bound = alpha.reshape(-1, 1, 1, 1) * 2.0 ** -k
    assert np.all(err <= bound * (1 + 1e-12))
    # and no other level is closer (nearest-level quantizer)
    all_levels = np.arange(-(1 << k) + 1, 1 << k, 2)[None, None, :] * alpha[:, None, None] / (1 << k)
    best = np.abs(w.reshape(w.shape[0], -1, 1) - all_levels).min(axis=2)
    assert np.all(err.reshape(best.shape) <= best * (1 + 1e-12) + 1e-15)


def test_error_bound_fails_for_a_wrong_level():
    """The bound above is tight enough to catch an off-by-one-level code."""
    alpha = np.array([1.0])
    w = np.array([[0.3]])
    codes = bwb.encode(w, alpha)
    off = codes + 1
    assert abs(w[0, 0] - bwb.decode(off, alpha, 8)[0, 0]) > 2.0 ** -8


@pytest.mark.parametrize("k", KS)
def test_round_trip(rng, k):
    codes = np.arange(1 << k, dtype=np.uint8).reshape(1, -1)
    alpha = np.array([rng.uniform(0.01, 5.0)])
    np.testing.assert_array_equal(bwb.encode(bwb.decode(codes, alpha, k, bits=k), alpha, bits=k), codes)
    codes8 = rng.integers(0, 256, size=(6, 40), dtype=np.uint8)
    alphas = rng.uniform(0.01, 5.0, size=6)
    np.testing.assert_array_equal(bwb.encode(bwb.decode(codes8, alphas, 8), alphas), codes8)


def test_channel_scale():
    w = np.array([[[[0.5, -2.0]]], [[[0.0, 0.0]]], [[[1.0, 0.25]]]], dtype=np.float32)
    np.testing.assert_array_equal(bwb.channel_scale(w), [2.0, 1.0, 1.0])  # zero channel -> 1
    codes = bwb.encode(w, bwb.channel_scale(w))
    assert codes[0, 0, 0, 1] == 0 and codes[2, 0, 0, 0] == 255  # extremes reach the end levels


def test_truncate_rejects_bad_k():
    codes = np.zeros(4, dtype=np.uint8)
    for k in (0, 9, -1):
        with pytest.raises(ValueError):
            bwb.truncate(codes, k)


def test_planes_are_msb_first_bits(rng):
    codes = np.array([0b10000000, 0b01111111, 0b10100101], dtype=np.uint8)
    p = bwb.planes(codes, 8)
    assert p.shape == (8, 3)
    np.testing.assert_array_equal(p[:, 0], [1, -1, -1, -1, -1, -1, -1, -1])
    np.testing.assert_array_equal(p[:, 1], [-1, 1, 1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(p[:, 2], [1, -1, 1, -1, -1, 1, -1, 1])
    # q_k = sum_i 2^(k-i) b_i
    for k in KS:
        pk = bwb.planes(codes, k)
        weights = (1 << np.arange(k - 1, -1, -1)).reshape(-1, 1)
        np.testing.assert_array_equal((pk * weights).sum(axis=0), bwb.levels(codes, k))


@pytest.mark.parametrize("k", KS)
def test_abs_identity_msb_first_accumulation(rng, k):
    """acc <- 2 acc + S_i over planes i = 1..k (MSB first) equals sum_j q_kj x_j exactly."""
    codes = rng.integers(0, 256, size=(32, 300), dtype=np.uint8)   # [outputs, fan-in]
    x = rng.integers(0, 256, size=(300, 5)).astype(np.int64)        # unsigned 8-bit activations
    acc = np.zeros((32, 5), dtype=np.int64)
    for plane in bwb.planes(codes, k):
        acc = 2 * acc + plane.astype(np.int64) @ x
    np.testing.assert_array_equal(acc, bwb.levels(codes, k).astype(np.int64) @ x)
    # LSB-first order would give a different (wrong) result for k >= 2: the test can tell them apart
    if k >= 2:
        wrong = np.zeros_like(acc)
        for plane in bwb.planes(codes, k)[::-1]:
            wrong = 2 * wrong + plane.astype(np.int64) @ x
        assert not np.array_equal(wrong, acc)
