"""Pretext losses and colour ops against NumPy references."""

import numpy as np
import pytest
import tensorflow as tf

from tfless.losses.pretext import (
    annealed_mean,
    pretext_cross_entropy,
    rebalanced_color_loss,
    rebalancing_weights,
    reconstruction_loss,
)
from tfless.methods.pretext.ops import ab_gamut_bins, rgb_to_lab, soft_encode_ab

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Every test draws its data from seed 0, whatever ran before it in this process
    (pytest-xdist hands a module's tests to workers in any order)."""
    global rng
    rng = np.random.default_rng(0)
    tf.random.set_seed(0)


def np_log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_pretext_cross_entropy():
    logits = rng.normal(size=(7, 5)).astype(np.float32)
    labels = rng.integers(0, 5, 7)
    ref = -np.mean(np_log_softmax(logits)[np.arange(7), labels])
    np.testing.assert_allclose(pretext_cross_entropy(labels, logits), ref, rtol=1e-5)


def test_rebalancing_weights():
    prior = rng.random(6) ** 3
    prior /= prior.sum()
    w = np.asarray(rebalancing_weights(prior, 0.5))
    ref = 1.0 / (0.5 * prior + 0.5 / 6)
    ref /= (prior * ref).sum()
    np.testing.assert_allclose(w, ref, rtol=1e-5)
    np.testing.assert_allclose((prior * w).sum(), 1.0, rtol=1e-5)
    assert np.argmax(w) == np.argmin(prior)  # rare colours weigh more
    np.testing.assert_allclose(rebalancing_weights(prior, 1.0), np.ones(6), rtol=1e-5)


def test_rebalanced_color_loss():
    logits = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    z = rng.random((2, 3, 4, 5)).astype(np.float32)
    z /= z.sum(-1, keepdims=True)
    w = rng.random(5).astype(np.float32) + 0.5
    ref = np.mean(w[z.argmax(-1)] * -(z * np_log_softmax(logits)).sum(-1))
    np.testing.assert_allclose(rebalanced_color_loss(logits, z, w), ref, rtol=1e-5)


def test_annealed_mean():
    logits = rng.normal(size=(3, 4, 6)).astype(np.float32)
    bins = rng.normal(size=(6, 2)).astype(np.float32) * 50
    p = np.exp(np_log_softmax(logits))
    for t in (1.0, 0.38):
        # f_T(z) = exp(log z / T) / sum exp(log z / T), then the expectation over bins.
        f = p ** (1 / t)
        f /= f.sum(-1, keepdims=True)
        np.testing.assert_allclose(annealed_mean(logits, bins, t), f @ bins, rtol=1e-4, atol=1e-3)
    mode = annealed_mean(logits, bins, 1e-3)
    np.testing.assert_allclose(mode, bins[logits.argmax(-1)], atol=1e-2)


def test_reconstruction_loss():
    x = rng.random((2, 4, 4, 1)).astype(np.float32)
    r = rng.normal(size=(2, 4, 4, 1)).astype(np.float32)
    np.testing.assert_allclose(reconstruction_loss(x, r, "mse"), np.mean((x - r) ** 2), rtol=1e-5)
    s = 1 / (1 + np.exp(-r))
    ref = -np.mean(x * np.log(s) + (1 - x) * np.log(1 - s))
    np.testing.assert_allclose(reconstruction_loss(x, r, "bce"), ref, rtol=1e-5)
    with pytest.raises(ValueError, match="kind"):
        reconstruction_loss(x, r, "l1")


def test_rgb_to_lab_known_colours_and_reference():
    rgb = np.array([[1, 1, 1], [0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    # Standard sRGB/D65 values (e.g. Bruce Lindbloom's calculator).
    ref = [
        [100, 0, 0],
        [0, 0, 0],
        [53.24, 80.09, 67.20],
        [87.73, -86.18, 83.18],
        [32.30, 79.19, -107.86],
    ]
    np.testing.assert_allclose(rgb_to_lab(rgb), ref, atol=0.05)
    gray = np.full((3, 3), 0.5, np.float32)
    np.testing.assert_allclose(rgb_to_lab(gray)[:, 1:], 0, atol=1e-3)


def test_gamut_bins_and_soft_encoding():
    bins = ab_gamut_bins()
    assert bins.shape[1] == 2 and 240 <= len(bins) <= 320
    assert np.all(bins % 10 == 0) and [0, 0] in bins.tolist()
    ab = rng.uniform(-60, 60, size=(2, 3, 2)).astype(np.float32)
    soft = soft_encode_ab(ab, bins).numpy()
    assert soft.shape == (2, 3, len(bins))
    flat, sflat = ab.reshape(-1, 2), soft.reshape(-1, len(bins))
    for v, s in zip(flat, sflat, strict=True):
        d2 = ((bins - v) ** 2).sum(-1)
        near = np.argsort(d2)[:5]
        ref = np.zeros(len(bins))
        ref[near] = np.exp(-d2[near] / (2 * 25.0))
        np.testing.assert_allclose(s, ref / ref.sum(), rtol=1e-4, atol=1e-6)
    assert tf.reduce_all(tf.abs(tf.reduce_sum(soft, -1) - 1) < 1e-5)
