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


def _simclr(encoder):
    from tfless.methods.contrastive import SimCLR

    return SimCLR(encoder, projection_dim=4)


def _deepcluster(encoder):
    from tfless.methods.clustering import DeepCluster

    return DeepCluster(encoder, num_data=16, num_clusters=3, pca_dim=2)


@pytest.mark.parametrize("build", [_simclr, _deepcluster], ids=["simclr", "deepcluster"])
def test_other_methods_read_the_feature_size_of_a_built_sequential(build):
    with pytest.raises(ValueError, match=r"built encoder"):
        build(sequential_encoder())
    encoder = sequential_encoder()
    encoder.build((None, 8, 8, 3))
    method = build(encoder)
    images = np.random.default_rng(0).uniform(size=(2, 8, 8, 3)).astype("float32")
    assert tuple(method.features(images).shape) == (2, 4)
