import numpy as np
import pytest
import tensorflow as tf

from tests.testing import digits_images, run_method_learns, run_mirrored_equivalence, tiny_encoder
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
    x = digits_images(16, n=512)
    method = Rotation(tiny_encoder((16, 16, 1), (16, 32)))
    assert METHODS["rotation"] is Rotation
    hist = run_method_learns(method, x, 40, seed=0, window=5, above={"pretext_accuracy": 0.25})
    assert np.mean(hist["loss"][-5:]) < 0.7 * np.mean(hist["loss"][:5]), hist["loss"]
    # Batch accuracy before each update (BN in training mode: 40 steps are too few for
    # the moving averages that evaluate() would use). Chance: 0.25.
    assert np.mean(hist["pretext_accuracy"][-5:]) > 0.5, hist["pretext_accuracy"]


def test_rotation_two_replicas_train_as_one(mirrored_strategy):
    run_mirrored_equivalence(
        lambda: Rotation(tiny_encoder((16, 16, 1), (8,))),
        {"image": digits_images(16, n=8)},
        mirrored_strategy,
        keys=("loss", "pretext_accuracy"),
    )


def test_rotation_bad_input():
    with pytest.raises(ValueError, match="square"):
        Rotation(tiny_encoder((16, 12, 1), (8,)))
    with pytest.raises(ValueError, match="hidden_dim"):
        Rotation(tiny_encoder((16, 16, 1), (16, 32)), hidden_dim=-1)
    with pytest.raises(ValueError, match="hidden_layers"):
        Rotation(tiny_encoder((16, 16, 1), (16, 32)), hidden_dim=8, hidden_layers=0)


def test_rotation_head_depth():
    """``hidden_layers`` ReLU layers of ``hidden_dim`` before the 4-way output."""
    import keras

    head = Rotation(tiny_encoder((16, 16, 1), (16, 32)), hidden_dim=8, hidden_layers=2).head
    dense = [layer for layer in head.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [8, 8, 4]
    assert Rotation(tiny_encoder((16, 16, 1), (16, 32))).head.layers[-1].units == 4
    # hidden_dim=0: a linear head.
    assert len(Rotation(tiny_encoder((16, 16, 1), (16, 32))).head.layers) == 1
