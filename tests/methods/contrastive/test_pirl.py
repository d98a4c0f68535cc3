"""PIRL: jigsaw tiles, learning on digits, memory bank consistent under MirroredStrategy."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import digits_images, replica_values, tiny_encoder
from tfless.methods.contrastive import PIRL
from tfless.methods.contrastive.pirl import jigsaw_tiles


def _dataset(x, batch, augment):
    ds = tf.data.Dataset.from_tensor_slices({"image": x, "index": np.arange(len(x))})
    ds = ds.shuffle(len(x), seed=0).repeat().batch(batch, drop_remainder=True)

    def aug(b):
        seed = tf.stack([b["index"][0], tf.constant(0, tf.int64)])
        return {"image": augment(b["image"], seed), "index": b["index"]}

    return ds.map(aug)


def test_jigsaw_tiles_are_the_cells_in_permuted_order():
    images = tf.reshape(tf.range(2 * 9 * 9, dtype=tf.float32), (2, 9, 9, 1))
    tiles, perm = jigsaw_tiles(images, tf.constant([1, 2]), grid=3, tile_size=3)
    assert tiles.shape == (2, 9, 3, 3, 1)
    for b in range(2):
        assert sorted(perm[b].numpy().tolist()) == list(range(9))
        for j in range(9):
            r, c = divmod(int(perm[b, j]), 3)
            cell = images[b, 3 * r : 3 * r + 3, 3 * c : 3 * c + 3]
            np.testing.assert_array_equal(tiles[b, j], cell)


def test_pirl_loss_falls(data):
    x = digits_images(12)
    method = PIRL(tiny_encoder((12, 12, 1)), num_data=len(x), projection_dim=32, num_negatives=32)
    method.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    hist = method.fit(_dataset(x, 64, data.augment), steps_per_epoch=10, epochs=6, verbose=0)
    loss = np.asarray(hist.history["loss"])
    assert np.all(np.isfinite(loss))
    assert loss[-1] < 0.6 * loss[0], loss
    assert hist.history["nce_jigsaw"][-1] < hist.history["nce_jigsaw"][0]


def test_pirl_fit_mirrored_keeps_banks_equal(data, mirrored_strategy):
    x = digits_images(12, n=32)
    with mirrored_strategy.scope():
        method = PIRL(tiny_encoder((12, 12, 1)), num_data=32, projection_dim=8, num_negatives=4)
        method.compile(optimizer=keras.optimizers.SGD(0.03, momentum=0.9), jit_compile=False)
    before = method.bank.bank.numpy().copy()
    hist = method.fit(_dataset(x, 8, data.augment), steps_per_epoch=2, epochs=1, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    banks = replica_values(method.bank.bank)
    np.testing.assert_array_equal(banks[0], banks[1])
    assert (np.abs(banks[0] - before).sum(1) > 0).sum() == 16  # 2 steps x global batch 8


def test_pirl_bad_input():
    with pytest.raises(ValueError, match="too small for a 3x3 jigsaw grid"):
        PIRL(tiny_encoder((5, 5, 1)), num_data=10)
    with pytest.raises(ValueError, match="temperature"):
        PIRL(tiny_encoder((12, 12, 1)), num_data=10, temperature=0.0)
    method = PIRL(tiny_encoder((12, 12, 1)), num_data=10, projection_dim=8, num_negatives=4)
    with pytest.raises(ValueError, match="with_index=True"):
        method.compute_loss(x={"image": tf.zeros((2, 12, 12, 1))})
