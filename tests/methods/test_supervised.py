"""The supervised baseline learns and validates its hyperparameters."""

import keras
import numpy as np
import pytest

from tfless.backbones import build_backbone
from tfless.data import synthetic
from tfless.methods import Supervised


def test_supervised_learns_synthetic_shapes():
    keras.utils.set_random_seed(0)
    x, y = synthetic.shapes_arrays("train", num_examples=256)
    xt, yt = synthetic.shapes_arrays("test", num_examples=128)
    m = Supervised(build_backbone("convnet", (16, 16, 3), widths=(16, 32)), 4, label_smoothing=0.1)
    m.compile(optimizer=keras.optimizers.Adam(3e-3))
    import tensorflow as tf

    ds = (
        tf.data.Dataset.from_tensor_slices({"image": x, "label": y}).shuffle(256).repeat().batch(32)
    )
    before = m.evaluate({"image": xt, "label": yt}, verbose=0, return_dict=True)
    h = m.fit(ds, steps_per_epoch=100, epochs=3, verbose=0)
    after = m.evaluate(
        tf.data.Dataset.from_tensor_slices({"image": xt, "label": yt}).batch(128),
        verbose=0,
        return_dict=True,
    )
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert after["accuracy"] > 0.6 > before["accuracy"] + 0.2


def test_label_smoothing_loss_matches_numpy():
    m = Supervised(build_backbone("convnet", (8, 8, 1), widths=(4,)), 3, label_smoothing=0.2)
    x = {
        "image": np.random.RandomState(0).rand(5, 8, 8, 1).astype("float32"),
        "label": np.array([0, 1, 2, 1, 0], "int32"),
    }
    loss = float(m.compute_loss(x=x, training=False))
    logits = m.logits(x["image"]).numpy()
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    target = np.full((5, 3), 0.2 / 3) + 0.8 * np.eye(3)[x["label"]]
    assert loss == pytest.approx(float(-(target * logp).sum(1).mean()), rel=1e-5)


def test_bad_hyperparameters():
    enc = build_backbone("convnet", (8, 8, 1), widths=(4,))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        Supervised(enc, 3, label_smoothing=1.5)
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        Supervised(enc, 3, weight_decay=-1)
