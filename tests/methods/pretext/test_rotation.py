import numpy as np
import pytest
import tensorflow as tf
from pretext_testing import digits_images, fit_one_mirrored_step, tiny_encoder, train

from tfless.methods import METHODS
from tfless.methods.pretext import Rotation
from tfless.methods.pretext.ops import rotate_all


def test_rotate_all_matches_numpy():
    x = np.random.default_rng(0).random((3, 5, 5, 2)).astype(np.float32)
    rotated, labels = rotate_all(tf.constant(x))
    np.testing.assert_array_equal(labels.numpy(), np.repeat(np.arange(4), 3))
    for k in range(4):
        np.testing.assert_array_equal(rotated[3 * k : 3 * k + 3], np.rot90(x, k, axes=(1, 2)))


def test_rotation_learns():
    x = digits_images(16)
    method = Rotation(tiny_encoder(16))
    assert METHODS["rotation"] is Rotation
    hist = train(method, x, steps=40)
    assert np.mean(hist["loss"][-5:]) < 0.7 * np.mean(hist["loss"][:5]), hist["loss"]
    # Batch accuracy before each update (BN in training mode: 40 steps are too few for
    # the moving averages that evaluate() would use). Chance: 0.25.
    assert np.mean(hist["pretext_accuracy"][-5:]) > 0.5, hist["pretext_accuracy"]


def test_rotation_mirrored_step():
    x = digits_images(16, n=64)
    logs = fit_one_mirrored_step(lambda: Rotation(tiny_encoder(16, widths=(8,))), x)
    assert np.isfinite(logs["loss"]) and 0 <= logs["pretext_accuracy"] <= 1


def test_rotation_bad_input():
    with pytest.raises(ValueError, match="square"):
        Rotation(tiny_encoder_nonsquare())
    with pytest.raises(ValueError, match="hidden_dim"):
        Rotation(tiny_encoder(16), hidden_dim=-1)
    with pytest.raises(ValueError, match="hidden_layers"):
        Rotation(tiny_encoder(16), hidden_dim=8, hidden_layers=0)


def test_rotation_head_depth():
    """``hidden_layers`` ReLU layers of ``hidden_dim`` before the 4-way output."""
    import keras

    head = Rotation(tiny_encoder(16), hidden_dim=8, hidden_layers=2).head
    dense = [layer for layer in head.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [8, 8, 4]
    assert Rotation(tiny_encoder(16)).head.layers[-1].units == 4
    assert len(Rotation(tiny_encoder(16)).head.layers) == 1  # hidden_dim=0: linear


def tiny_encoder_nonsquare():
    from tfless.backbones import build_backbone

    return build_backbone("convnet", (16, 12, 1), widths=(8,))
