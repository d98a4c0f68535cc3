"""ReMixMatch's distribution alignment: the authors' 128-batch window, checked against NumPy."""

import numpy as np
import pytest

from tfless.methods.semi import ReMixMatch
from tfless.methods.semi.remixmatch import roll_window


def numpy_window_marginal(batch_means, window, num_classes):
    """The authors' moving average: a buffer of uniform rows, rolled, mean renormalized."""
    buf = np.full((window, num_classes), 1.0 / num_classes)
    for m in batch_means:
        buf = np.concatenate([buf[1:], m[None]], axis=0)
    mean = buf.mean(axis=0)
    return buf, mean / mean.sum()


def random_batches(steps, batch, num_classes, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(steps, batch, num_classes)) * 2.0
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels = rng.integers(0, num_classes, size=(steps, batch))
    return probs.astype(np.float32), np.eye(num_classes, dtype=np.float32)[labels]


def test_roll_window_matches_numpy():
    window = np.random.default_rng(1).uniform(size=(5, 3)).astype(np.float32)
    entry = np.array([0.2, 0.5, 0.3], np.float32)
    rolled, marginal = roll_window(window, entry)
    ref = np.concatenate([window[1:], entry[None]])
    np.testing.assert_allclose(rolled, ref, rtol=1e-6)
    np.testing.assert_allclose(marginal, ref.mean(0) / ref.mean(0).sum(), rtol=1e-6)


def test_default_is_the_authors_128_batch_window(semi):
    model = ReMixMatch(semi.tiny_encoder(), num_classes=4)
    assert model.alignment == "window" and model.alignment_window == 128
    assert tuple(model.p_model_window.shape) == (128, 4)
    np.testing.assert_allclose(model.p_model_window.numpy(), 0.25)


def test_window_alignment_matches_numpy_and_wraps(semi):
    c, window, steps = 4, 3, 5  # more steps than rows: the oldest batches drop out
    model = ReMixMatch(semi.tiny_encoder(), num_classes=c, alignment_window=window)
    probs, onehot = random_batches(steps, 6, c)
    p_data = np.full(c, 1.0 / c)
    for t in range(steps):
        model._update_marginals(onehot[t], probs[t])
        p_data = 0.999 * p_data + 0.001 * onehot[t].mean(0)
    buf, p_model = numpy_window_marginal(probs.mean(axis=1), window, c)
    np.testing.assert_allclose(model.p_model_window.numpy(), buf, rtol=1e-5)
    np.testing.assert_allclose(model.p_model.numpy(), p_model, rtol=1e-5)
    np.testing.assert_allclose(model.p_data.numpy(), p_data, rtol=1e-5)
    # The guess is aligned with the window's marginal.
    q = model.guess_labels(probs[0]).numpy()
    aligned = probs[0] * p_data / p_model
    aligned /= aligned.sum(-1, keepdims=True)
    ref = aligned**2 / (aligned**2).sum(-1, keepdims=True)
    np.testing.assert_allclose(q, ref, rtol=1e-4, atol=1e-6)


def test_known_label_distribution_is_fixed(semi):
    prior = [2.0, 1.0, 1.0]
    model = ReMixMatch(semi.tiny_encoder(), num_classes=3, label_distribution=prior)
    probs, onehot = random_batches(2, 4, 3)
    for t in range(2):
        model._update_marginals(onehot[t], probs[t])
    np.testing.assert_allclose(model.p_data.numpy(), [0.5, 0.25, 0.25], rtol=1e-6)


def test_ema_alignment_keeps_the_running_average(semi):
    model = ReMixMatch(semi.tiny_encoder(), num_classes=4, alignment="ema", marginal_decay=0.9)
    assert model.p_model_window is None
    probs, onehot = random_batches(3, 5, 4)
    p_model = np.full(4, 0.25)
    for t in range(3):
        model._update_marginals(onehot[t], probs[t])
        p_model = 0.9 * p_model + 0.1 * probs[t].mean(0)
    np.testing.assert_allclose(model.p_model.numpy(), p_model, rtol=1e-5)


def test_alignment_bad_input(semi):
    enc = semi.tiny_encoder()
    with pytest.raises(ValueError, match="alignment must be one of"):
        ReMixMatch(enc, num_classes=4, alignment="median")
    with pytest.raises(ValueError, match="alignment_window must be >= 1"):
        ReMixMatch(enc, num_classes=4, alignment_window=0)
    with pytest.raises(ValueError, match="label_distribution must be 4 non-negative"):
        ReMixMatch(enc, num_classes=4, label_distribution=[1.0, 0.0])
