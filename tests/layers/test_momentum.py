import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import replica_values
from tfless.backbones import build_backbone
from tfless.layers.momentum import MomentumCopy, momentum_update


def _net():
    return build_backbone("convnet", (8, 8, 1), widths=(4, 8))


def test_copy_starts_equal_and_follows_the_ema():
    src = _net()
    ema = MomentumCopy(src, decay=0.9)
    for t, s in zip(ema.network.weights, src.weights, strict=True):
        np.testing.assert_array_equal(t.numpy(), s.numpy())
    assert ema.trainable_weights == [] and len(src.trainable_weights) > 0  # source not frozen
    before = [w.numpy() for w in ema.network.weights]
    for w in src.weights:
        w.assign(w.numpy() + 1.0)
    ema.update()
    for b, t, s in zip(before, ema.network.weights, src.weights, strict=True):
        np.testing.assert_allclose(t.numpy(), 0.9 * b + 0.1 * s.numpy(), rtol=1e-6, atol=1e-7)
    x = np.random.default_rng(0).uniform(size=(2, 8, 8, 1)).astype(np.float32)
    assert ema(x).shape == (2, 8)


def test_non_trainable_weights_can_be_left_alone():
    src = _net()
    ema = MomentumCopy(src, decay=0.5, average_non_trainable=False)
    for w in src.weights:
        w.assign(w.numpy() + 2.0)
    ema.update(decay=0.0)
    for t, s in zip(ema.network.weights, src.weights, strict=True):
        if s.trainable:
            np.testing.assert_allclose(t.numpy(), s.numpy())
        else:
            np.testing.assert_allclose(t.numpy(), s.numpy() - 2.0)


def test_bad_decay():
    with pytest.raises(ValueError, match="decay must be in \\[0, 1\\]; got 1.5"):
        MomentumCopy(_net(), decay=1.5)


def test_update_inside_replica_context_is_consistent(mirrored_strategy):
    strategy = mirrored_strategy
    with strategy.scope():
        src = keras.Variable(np.ones(3, np.float32))
        tgt = keras.Variable(np.zeros(3, np.float32))

    @tf.function
    def step(decay):
        def fn():
            momentum_update([tgt], [src], decay)

        strategy.run(fn)

    step(tf.constant(0.75))
    values = replica_values(tgt)
    assert len(values) == 2
    for v in values:
        np.testing.assert_allclose(v, 0.25)


def test_batch_stats_in_training_copy_normalizes_with_batch_statistics():
    inputs = keras.Input((4,))
    outputs = keras.layers.BatchNormalization()(keras.layers.Dense(3)(inputs))
    source = keras.Model(inputs, outputs)
    x = np.random.RandomState(0).normal(3.0, 2.0, size=(16, 4)).astype("float32")
    frozen = MomentumCopy(source)
    noisy = MomentumCopy(source, batch_stats_in_training=True)
    # Batch statistics: each output unit has mean ~0 over the batch in training mode.
    assert np.abs(np.asarray(noisy(x, training=True)).mean(axis=0)).max() < 1e-3
    # A Keras-frozen copy keeps using its moving statistics even when training=True.
    np.testing.assert_allclose(frozen(x, training=True), frozen(x, training=False), atol=1e-6)
    # Neither copy exposes variables to an optimizer.
    assert noisy.trainable_weights == [] and frozen.trainable_weights == []
    holder = keras.Sequential([keras.Input((4,)), noisy])
    assert holder.trainable_weights == []
