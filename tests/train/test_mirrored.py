"""MirroredStrategy on two logical CPUs computes what one device computes."""

import keras
import numpy as np
import tensorflow as tf

from tfless.backbones import build_backbone
from tfless.methods import Supervised


def _build(strategy, seed=0):
    with strategy.scope():
        keras.utils.set_random_seed(seed)
        enc = build_backbone("convnet", (8, 8, 1), widths=(8, 16), bn_synchronized=True)
        method = Supervised(enc, num_classes=10, weight_decay=5e-4)
        method.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9))
    return method


def _batch(n=16, seed=0):
    rng = np.random.RandomState(seed)
    return {
        "image": rng.uniform(size=(n, 8, 8, 1)).astype("float32"),
        "label": rng.randint(0, 10, size=[n]).astype("int32"),
    }


def test_two_devices_give_the_same_loss_and_update_as_one():
    batch = _batch()
    one = _build(tf.distribute.get_strategy())
    two = _build(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    two.set_weights(one.get_weights())
    assert two.distribute_strategy.num_replicas_in_sync == 2

    ds = tf.data.Dataset.from_tensors(batch).repeat(3)
    h1 = one.fit(ds, epochs=1, verbose=0).history
    h2 = two.fit(ds, epochs=1, verbose=0).history
    # Same global batch, same weights: per-step losses and the final weights agree.
    np.testing.assert_allclose(h1["xent"], h2["xent"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-4, atol=1e-5)
    for a, b in zip(one.get_weights(), two.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    # ... and training did move the weights (the comparison is not vacuous).
    fresh = _build(tf.distribute.get_strategy())
    moved = max(np.abs(a - b).max() for a, b in zip(one.get_weights(), fresh.get_weights()))
    assert moved > 1e-3
