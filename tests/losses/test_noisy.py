"""Noise-robust and multi-tag losses against hand-written NumPy references."""

import numpy as np
import pytest
import tensorflow as tf

from tfless.losses import noisy as N


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _data(b=6, c=5, seed=0):
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=(b, c)) * 3).astype(np.float32)
    labels = rng.integers(0, c, size=b)
    return np.eye(c, dtype=np.float32)[labels], logits


def _close(got, ref):
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-5, atol=1e-6)


def test_cross_entropy_and_bootstraps_match_numpy():
    y, z = _data()
    p = _softmax(z.astype(np.float64))
    _close(N.cross_entropy(y, z), -(y * np.log(p)).sum(-1))
    pc = np.clip(p, 1e-7, 1 - 1e-7)
    _close(N.bootstrap_soft(y, z), -((0.95 * y + 0.05 * pc) * np.log(pc)).sum(-1))
    hard = np.eye(5)[pc.argmax(-1)]
    _close(N.bootstrap_hard(y, z), -((0.8 * y + 0.2 * hard) * np.log(pc)).sum(-1))
    # beta = 1 is plain cross-entropy (up to the clip).
    _close(N.bootstrap_soft(y, z, beta=1.0), -(y * np.log(pc)).sum(-1))


def test_gce_matches_numpy_and_its_limits():
    y, z = _data()
    p = _softmax(z.astype(np.float64))
    py = (y * p).sum(-1)
    _close(N.generalized_cross_entropy(y, z), (1 - py**0.7) / 0.7)
    _close(N.generalized_cross_entropy(y, z, q=1.0), 1 - py)  # MAE
    # q -> 0 approaches cross-entropy.
    np.testing.assert_allclose(
        np.asarray(N.generalized_cross_entropy(y, z, q=1e-4)), -np.log(py), rtol=2e-3
    )
    # A soft target: p_y is sum_c y_c p_c.
    soft = np.full_like(y, 0.2)
    _close(N.generalized_cross_entropy(soft, z), (1 - (soft * p).sum(-1) ** 0.7) / 0.7)


def test_gce_gradient_is_finite_when_the_label_probability_underflows():
    y = np.array([[1.0, 0.0]], np.float32)
    z = tf.constant([[-200.0, 200.0]])
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = N.generalized_cross_entropy(y, z)
    assert np.all(np.isfinite(tape.gradient(loss, z).numpy()))


def test_symmetric_cross_entropy_matches_numpy_with_the_log0_clamp():
    y, z = _data()
    p = np.clip(_softmax(z.astype(np.float64)), 1e-7, 1.0)
    ce = -(y * np.log(p)).sum(-1)
    rce = -(p * np.log(np.clip(y, 1e-4, 1.0))).sum(-1)
    _close(N.reverse_cross_entropy(y, z), rce)
    # RCE of a one-hot label is -log(1e-4) * (1 - p_y): the constant A of the paper.
    _close(rce, -np.log(1e-4) * (1 - (y * p).sum(-1)))
    _close(N.symmetric_cross_entropy(y, z), 0.1 * ce + 1.0 * rce)
    for alpha, beta in N.SCE_PRESETS.values():
        _close(N.symmetric_cross_entropy(y, z, alpha=alpha, beta=beta), alpha * ce + beta * rce)
    assert N.SCE_PRESETS == {"mnist": (0.01, 1.0), "cifar10": (0.1, 1.0), "cifar100": (6.0, 0.1)}


def test_multi_tag_softmax_weights_each_tag_one_over_k():
    rng = np.random.default_rng(1)
    tags = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 1]], np.float32)
    z = rng.normal(size=(3, 4)).astype(np.float32)
    logp = np.log(_softmax(z.astype(np.float64)))
    ref = -((tags / tags.sum(-1, keepdims=True)) * logp).sum(-1)
    _close(N.multi_tag_softmax(tags, z), ref)
    # One tag per image is ordinary softmax cross-entropy.
    _close(N.multi_tag_softmax(tags[:1], z[:1]), -logp[0, 0])


def test_per_tag_sigmoid_matches_numpy_and_is_stable():
    tags = np.array([[1, 0, 1], [0, 0, 0]], np.float32)
    z = np.array([[2.0, -1.0, 0.5], [-3.0, 60.0, -60.0]], np.float32)
    z64 = z.astype(np.float64)
    # -log sigmoid(z) = log(1 + e^-z); -log(1 - sigmoid(z)) = log(1 + e^z).
    ref = (tags * np.logaddexp(0, -z64) + (1 - tags) * np.logaddexp(0, z64)).sum(-1)
    s = 1 / (1 + np.exp(-z64[0]))
    np.testing.assert_allclose(ref[0], -(tags[0] * np.log(s) + (1 - tags[0]) * np.log(1 - s)).sum())
    np.testing.assert_allclose(np.asarray(N.per_tag_sigmoid(tags, z)), ref, rtol=1e-5)


def test_bad_inputs_name_the_value():
    y, z = _data()
    with pytest.raises(ValueError, match="rows \\[1\\]"):
        N.multi_tag_softmax(np.array([[1, 0], [0, 0]], np.float32), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="q must be in \\(0, 1\\]; got 0"):
        N.generalized_cross_entropy(y, z, q=0)
    with pytest.raises(ValueError, match="beta must be in \\[0, 1\\]; got 1.5"):
        N.bootstrap_soft(y, z, beta=1.5)
    with pytest.raises(ValueError, match="alpha=-1"):
        N.symmetric_cross_entropy(y, z, alpha=-1)
    with pytest.raises(ValueError, match="'focal'"):
        N.robust_loss("focal", y, z)

    @tf.function
    def graph(tags):
        return N.multi_tag_softmax(tags, tf.zeros((2, 2)))

    with pytest.raises(tf.errors.InvalidArgumentError, match="at least one tag"):
        graph(tf.constant([[1.0, 0.0], [0.0, 0.0]]))
