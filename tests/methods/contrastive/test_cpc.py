"""CPC v2: patch grid, causal context network, learning on digits, one vs two replicas."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import digits_images, image_batches, run_mirrored_equivalence, tiny_encoder
from tfless.methods.contrastive import CPC
from tfless.methods.contrastive.cpc import context_network, extract_patch_grid


def _digits12_ds(batch):
    return image_batches(digits_images(12), batch)


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


def test_cpc_loss_falls():
    method = CPC(tiny_encoder((12, 12, 1)), patch_size=4, patch_stride=2, prediction_steps=2)
    method.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    hist = method.fit(_digits12_ds(32), steps_per_epoch=10, epochs=4, verbose=0)
    loss = np.asarray(hist.history["loss"])
    assert loss[0] < np.log(32 * 25) + 0.5  # starts near chance among 800 patches
    assert loss[-1] < loss[0] - 0.8, loss


def test_cpc_fit_two_replicas_train_as_one(mirrored_strategy):
    # Negatives are the patches of the whole global batch, gathered from both replicas.
    run_mirrored_equivalence(
        lambda: CPC(tiny_encoder((12, 12, 1)), patch_size=4, prediction_steps=2),
        {"image": digits_images(12, n=8)},
        mirrored_strategy,
    )


def test_cpc_bad_input():
    with pytest.raises(ValueError, match="too small for 4 px patches"):
        CPC(tiny_encoder((8, 8, 1)), patch_size=4, patch_stride=2, prediction_steps=3)
    with pytest.raises(ValueError, match="too small for 16 px patches"):
        CPC(tiny_encoder((8, 8, 1)), patch_size=16)
    with pytest.raises(ValueError, match="prediction_steps"):
        CPC(tiny_encoder((8, 8, 1)), patch_size=4, prediction_steps=0)


def test_cpc_features_are_the_mean_over_the_patch_grid(tmp_path):
    """Evaluation and export read the paper's features: every patch of the grid encoded
    by the shared encoder, averaged; not the encoder run on the whole image."""
    from tfless import export

    keras.utils.set_random_seed(0)
    method = CPC(tiny_encoder((12, 12, 1)), patch_size=4, patch_stride=2, prediction_steps=2)
    x = np.random.RandomState(1).rand(3, 12, 12, 1).astype("f4")
    grid = extract_patch_grid(x, 4, 2)  # [3, 5, 5, 4, 4, 1]
    z = [[method.patch_encoder(grid[:, i, j]).numpy() for j in range(5)] for i in range(5)]
    expected = np.mean(np.asarray(z), axis=(0, 1))
    got = method.feature_encoder()(x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(method(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    whole = method.encoder(x).numpy()
    assert not np.allclose(got, whole)
    # The export publishes the same features (reloaded and compared in a fresh process).
    result = export.export_encoder(method, str(tmp_path), "cpc", images=x)
    loaded = tf.saved_model.load(result.path)
    served = loaded.signatures["serving_default"](image=tf.constant(x))["feature_vector"]
    np.testing.assert_allclose(served.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_orient_grid_makes_each_direction_down():
    from tfless.methods.contrastive.cpc import orient_grid

    z = np.arange(9, dtype="f4").reshape(1, 3, 3, 1)  # z[0, i, j] = 3 i + j
    # After re-indexing, "row i + 1" must be the next patch in the given direction.
    up = orient_grid(z, "up").numpy()[0, :, :, 0]
    np.testing.assert_array_equal(up[1], z[0, 1, :, 0])
    np.testing.assert_array_equal(up[2], z[0, 0, :, 0])  # rows above come later
    right = orient_grid(z, "right").numpy()[0, :, :, 0]
    np.testing.assert_array_equal(right[1], z[0, :, 1, 0])  # column 1 becomes row 1
    left = orient_grid(z, "left").numpy()[0, :, :, 0]
    np.testing.assert_array_equal(left[0], z[0, :, 2, 0])  # the rightmost column first


def test_cpc_all_directions_loss_falls():
    method = CPC(
        tiny_encoder((12, 12, 1)),
        patch_size=4,
        patch_stride=2,
        prediction_steps=2,
        directions=("down", "up", "right", "left"),
    )
    assert len(method.contexts) == 4 and len(method.predictors) == 8
    method.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    hist = method.fit(_digits12_ds(32), steps_per_epoch=10, epochs=4, verbose=0)
    loss = np.asarray(hist.history["loss"])
    assert loss[-1] < loss[0] - 0.8, loss
    with pytest.raises(ValueError, match="directions"):
        CPC(tiny_encoder((12, 12, 1)), patch_size=4, prediction_steps=2, directions=("down", "x"))
    with pytest.raises(ValueError, match="directions"):
        CPC(tiny_encoder((12, 12, 1)), patch_size=4, prediction_steps=2, directions=("up", "up"))


def test_cpc_image_eval_features():
    method = CPC(tiny_encoder((12, 12, 1)), patch_size=4, prediction_steps=2, eval_features="image")
    assert method.feature_encoder() is method.encoder
    with pytest.raises(ValueError, match="eval_features"):
        CPC(tiny_encoder((12, 12, 1)), patch_size=4, prediction_steps=2, eval_features="grid")


def test_cpc_patch_jitter_only_in_training():
    method = CPC(tiny_encoder((12, 12, 1)), patch_size=4, prediction_steps=2, patch_jitter=0.4)
    x = np.random.RandomState(0).rand(2, 12, 12, 1).astype("f4")
    a, b = method.patch_features(x, training=True), method.patch_features(x, training=True)
    assert not np.allclose(a, b)  # a fresh jitter per call
    np.testing.assert_allclose(
        method.patch_features(x).numpy(), method.patch_features(x).numpy(), rtol=1e-6
    )
    with pytest.raises(ValueError, match="patch_jitter"):
        CPC(tiny_encoder((12, 12, 1)), patch_size=4, prediction_steps=2, patch_jitter=2.0)
