import numpy as np
import pytest
import tensorflow as tf

from tfless.augment.ctaugment import CTAugment


def _images(b=8, size=8):
    return tf.random.stateless_uniform([b, size, size, 3], seed=[0, 1])


def test_augment_keeps_shape_range_and_runs_in_tf_data():
    cta = CTAugment()
    x = _images()
    y = cta(x)
    assert y.shape == x.shape and y.dtype == tf.float32
    assert float(tf.reduce_min(y)) >= 0.0 and float(tf.reduce_max(y)) <= 1.0
    assert not np.allclose(y.numpy(), x.numpy())
    ds = tf.data.Dataset.from_tensors(x).map(cta)
    assert next(iter(ds)).shape == x.shape


def test_sampling_skips_bins_below_threshold():
    cta = CTAugment(ops=("Identity", "Rotate"), num_bins=5, threshold=0.8, decay=0.99)
    rates = np.ones((2, 5), np.float32)
    rates[1] = [1.0, 0.1, 0.5, 0.95, 0.0]
    cta.rates.assign(rates)
    p = cta.probabilities().numpy()
    np.testing.assert_allclose(p[0], 0.2)
    # (rate + 0.01) / max: bins 1, 2 and 4 fall below 0.8 and are never drawn.
    ref = np.array([1.01, 0.0, 0.0, 0.96, 0.0])
    np.testing.assert_allclose(p[1], ref / ref.sum(), rtol=1e-5)
    ops, bins = cta._sample(4000, probe=False)
    used = bins.numpy()[ops.numpy() == 1]
    assert set(np.unique(used)) == {0, 3}


def test_update_moves_used_bins_towards_proximity():
    cta = CTAugment(ops=("Identity", "Rotate"), num_bins=3, depth=1, decay=0.5)
    ops = tf.constant([[1, 1, 0]])
    bins = tf.constant([[2, 2, 0]])
    probs = tf.constant([[0.8, 0.2], [0.4, 0.6], [0.0, 1.0]])
    labels = tf.constant([0, 0, 0])
    cta.update(probs, labels, ops, bins)
    # proximity = 1 - |p - onehot|_1 / 2 = p_y: 0.8, 0.4, 0.0.
    rates = cta.rates.numpy()
    assert rates[1, 2] == pytest.approx(0.25 * 1.0 + 0.75 * 0.6)  # two uses, mean 0.6
    assert rates[0, 0] == pytest.approx(0.5)  # one use, proximity 0
    assert rates[0, 1] == 1.0 and rates[1, 0] == 1.0  # unused bins keep their weight


def test_probe_uses_uniform_bins():
    cta = CTAugment(ops=("Identity", "Brightness"), num_bins=4)
    cta.rates.assign(np.array([[1, 0, 0, 0], [1, 0, 0, 0]], np.float32))
    _, _, bins = cta.probe(_images(b=400))
    assert set(np.unique(bins.numpy())) == {0, 1, 2, 3}


def test_bad_arguments():
    with pytest.raises(ValueError, match="Unknown CTAugment op"):
        CTAugment(ops=("Rotate", "Nope"))
    with pytest.raises(ValueError, match="threshold must be in \\[0, 1\\); got 1.0"):
        CTAugment(threshold=1.0)
