"""MoCo's constructor on ``keras.Sequential`` encoders with and without an ``Input``."""

import keras
import numpy as np
import pytest

from tfless.methods.contrastive import MoCo


def sequential_encoder():
    return keras.Sequential(
        [keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.GlobalAveragePooling2D()],
        name="seq_encoder",
    )


def test_moco_refuses_an_unbuilt_sequential_with_a_clear_error():
    with pytest.raises(ValueError, match=r"built encoder.*encoder\.build\(\(None, H, W, C\)\)"):
        MoCo(sequential_encoder(), queue_size=8, projection_dim=4)


def test_moco_accepts_a_built_sequential_without_input():
    encoder = sequential_encoder()
    encoder.build((None, 8, 8, 3))
    method = MoCo(encoder, version=2, queue_size=8, projection_dim=4)
    # v2's hidden layer has the feature size, read from the built encoder.
    assert tuple(method.head.input_shape) == (None, 4)
    assert method.head.get_layer("dense0").units == 4
    images = np.random.default_rng(0).uniform(size=(2, 8, 8, 3)).astype("float32")
    assert tuple(method.query(images).shape) == (2, 4)
    for q, k in zip(encoder.trainable_weights, method.key_encoder.trainable_weights, strict=True):
        np.testing.assert_array_equal(q.numpy(), k.numpy())
