"""CPC v2: patch grid, causal context network, learning on digits, mirrored fit, bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless.data import digits_arrays
from tfless.methods.contrastive import CPC
from tfless.methods.contrastive.cpc import context_network, extract_patch_grid


def _digits12_ds(batch):
    x, _ = digits_arrays("train")
    x = tf.image.resize(x, (12, 12)).numpy()
    ds = tf.data.Dataset.from_tensor_slices({"image": x})
    return ds.shuffle(len(x), seed=0).repeat().batch(batch, drop_remainder=True)


def test_patch_grid_overlapping_patches():
    images = tf.reshape(tf.range(2 * 8 * 8, dtype=tf.float32), (2, 8, 8, 1))
    patches = extract_patch_grid(images, 4, 2)
    assert patches.shape == (2, 3, 3, 4, 4, 1)
    np.testing.assert_array_equal(patches[1, 2, 1], images[1, 4:8, 2:6])


def test_context_sees_only_rows_above():
    keras.utils.set_random_seed(0)
    net = context_network(grid=5, dim=4, layers=2)
    z = np.random.RandomState(0).randn(1, 5, 5, 4).astype("f4")
    changed = z.copy()
    changed[:, 3:] += 10.0  # rows 3 and 4 change
    a, b = net(z).numpy(), net(changed).numpy()
    np.testing.assert_allclose(a[:, :3], b[:, :3], rtol=1e-6)
    assert not np.allclose(a[:, 3:], b[:, 3:])


def test_cpc_loss_falls(tiny_encoder):
    method = CPC(tiny_encoder((12, 12, 1)), patch_size=4, patch_stride=2, prediction_steps=2)
    method.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    hist = method.fit(_digits12_ds(32), steps_per_epoch=10, epochs=4, verbose=0)
    loss = np.asarray(hist.history["loss"])
    assert loss[0] < np.log(32 * 25) + 0.5  # starts near chance among 800 patches
    assert loss[-1] < loss[0] - 0.8, loss


def test_cpc_fit_one_step_mirrored(tiny_encoder, mirrored):
    with mirrored.scope():
        method = CPC(tiny_encoder((12, 12, 1)), patch_size=4, prediction_steps=2)
        method.compile(optimizer=keras.optimizers.SGD(0.05), jit_compile=False)
    hist = method.fit(_digits12_ds(8), steps_per_epoch=1, epochs=1, verbose=0)
    assert np.isfinite(hist.history["loss"][0])


def test_cpc_bad_input(tiny_encoder):
    with pytest.raises(ValueError, match="too small for 4 px patches"):
        CPC(tiny_encoder((8, 8, 1)), patch_size=4, patch_stride=2, prediction_steps=3)
    with pytest.raises(ValueError, match="too small for 16 px patches"):
        CPC(tiny_encoder((8, 8, 1)), patch_size=16)
    with pytest.raises(ValueError, match="prediction_steps"):
        CPC(tiny_encoder((8, 8, 1)), patch_size=4, prediction_steps=0)
