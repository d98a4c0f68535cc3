"""Uncertainty-based sampling's pure pieces: composition sampling, top-L selection."""

import numpy as np
import pytest
import tensorflow as tf

from tfless.augment import sampling
from tfless.data import digits_arrays


def _digits(n=64, seed=0):
    x, y = digits_arrays("train")
    idx = np.random.RandomState(seed).choice(len(y), n, replace=False)
    return x[idx].astype(np.float32), y[idx].astype(np.int32)


def test_random_compositions_shape_dtype_and_tf_data():
    x, _ = _digits(6)
    out = sampling.random_compositions(x, num_samples=3, transforms=("Rotate", "Invert"))
    assert out.shape == (18, 8, 8, 1) and out.dtype == tf.float32
    out = out.numpy()
    assert out.min() >= 0.0 and out.max() <= 1.0
    # Copies differ from each other (Invert or a rotation changes every digit).
    assert not np.allclose(out[:6], out[6:12])
    u8 = tf.cast(tf.constant(x) * 255, tf.uint8)
    assert sampling.random_compositions(u8, 2).dtype == tf.uint8
    ds = tf.data.Dataset.from_tensor_slices(x).batch(3)
    ds = ds.map(lambda b: sampling.random_compositions(b, 2, ("ShearX",)))
    assert next(iter(ds)).shape == (6, 8, 8, 1)


def test_identity_only_compositions_are_copies():
    x, _ = _digits(4)
    out = sampling.random_compositions(x, num_samples=3, transforms=("Identity",))
    np.testing.assert_array_equal(out.numpy(), np.tile(x, [3, 1, 1, 1]))


def test_select_highest_loss_matches_numpy():
    rng = np.random.RandomState(0)
    losses = rng.rand(5, 7).astype(np.float32)
    idx = sampling.select_highest_loss(losses, 2).numpy()
    assert idx.shape == (2, 7)
    for b in range(7):
        order = np.argsort(-losses[:, b])[:2]
        np.testing.assert_array_equal(idx[:, b], order * 7 + b)
    flat = losses.reshape(-1)
    np.testing.assert_allclose(flat[idx[0]], losses.max(0))


def test_select_bad_input():
    with pytest.raises(ValueError, match=r"\[1, K=3\]"):
        sampling.select_highest_loss(np.zeros([3, 2], np.float32), 4)
    with pytest.raises(ValueError, match=r"\[K, B\]"):
        sampling.select_highest_loss(np.zeros([3], np.float32), 1)
