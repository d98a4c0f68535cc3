"""AMDIM: multiscale features, learning on digits, two replicas train as one, bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import digits_images, run_mirrored_equivalence, tiny_encoder
from tfless.methods.contrastive import AMDIM


def _digits16_views(batch, make_views):
    x = digits_images(16)
    ds = tf.data.Dataset.from_tensor_slices({"image": x, "index": np.arange(len(x))})
    ds = ds.shuffle(len(x), seed=0).repeat().batch(batch, drop_remainder=True)

    def views(b):
        return {
            "views": make_views(b["image"], tf.stack([b["index"][0], tf.constant(0, tf.int64)]))
        }

    return ds.map(views)


def test_amdim_multiscale_shapes():
    method = AMDIM(tiny_encoder((16, 16, 1), widths=(8, 16, 16)), embedding_dim=8)
    assert [tuple(o.shape) for o in method.multiscale.outputs] == [
        (None, 8, 8, 16),
        (None, 4, 4, 16),
    ]
    g, l5, l7 = method.embed(tf.zeros((2, 16, 16, 1)))
    assert g.shape == (2, 8) and l5.shape == (2, 16, 8) and l7.shape == (2, 64, 8)


def test_amdim_loss_falls(data):
    method = AMDIM(tiny_encoder((16, 16, 1), widths=(8, 16, 16)), embedding_dim=32)
    method.compile(optimizer=keras.optimizers.Adam(5e-3), jit_compile=False)
    ds = _digits16_views(32, data.make_views)
    hist = method.fit(ds, steps_per_epoch=10, epochs=6, verbose=0)
    loss = np.asarray(hist.history["loss"])
    assert loss[-1] < loss[0] - 0.25, loss
    for key in ("nce_1_5", "nce_1_7", "nce_5_5"):
        assert hist.history[key][-1] < hist.history[key][0], (key, hist.history[key])


def test_amdim_fit_two_replicas_train_as_one(data, mirrored_strategy):
    views = data.make_views(digits_images(16, n=8), (0, 0))
    run_mirrored_equivalence(
        lambda: AMDIM(tiny_encoder((16, 16, 1), widths=(8, 16, 16)), embedding_dim=8),
        {"views": tuple(np.asarray(v) for v in views)},
        mirrored_strategy,
        keys=("loss", "nce_1_5", "nce_1_7", "nce_5_5"),
    )


def test_amdim_bad_input(data):
    with pytest.raises(ValueError, match="no feature map larger"):
        AMDIM(tiny_encoder((4, 4, 1)), embedding_dim=8)
    with pytest.raises(ValueError, match="clip"):
        AMDIM(tiny_encoder((16, 16, 1), widths=(8, 16, 16)), clip=0.0)
    method = AMDIM(tiny_encoder((16, 16, 1), widths=(8, 16, 16)), embedding_dim=8)
    with pytest.raises(ValueError, match="global batch has 1 image"):
        method.compute_loss(x={"views": data.make_views(tf.zeros((1, 16, 16, 1)))})
