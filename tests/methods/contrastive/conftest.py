"""Tiny two-view data shared by the contrastive method tests.

The two-view augmentation here is a deliberately simple stand-in (random
1-pixel shifts, brightness jitter, pixel noise) so these tests do not depend on
``tfless.augment.views``.
"""

import numpy as np
import pytest
import tensorflow as tf

from tfless.data import digits_arrays


def augment(images, seed):
    """Per-image random shift (pad 1, crop), brightness and noise; ``[B, H, W, C]`` in [0, 1]."""
    b, h, w = images.shape[0], images.shape[1], images.shape[2]
    s = tf.random.experimental.stateless_split(seed, 3)
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])
    dy = tf.random.stateless_uniform((b,), s[0], 0, 3, dtype=tf.int32)
    dx = tf.random.stateless_uniform((b,), tf.reverse(s[0], [0]), 0, 3, dtype=tf.int32)
    rows = dy[:, None] + tf.range(h)[None]
    cols = dx[:, None] + tf.range(w)[None]
    out = tf.gather(padded, rows, axis=1, batch_dims=1)
    out = tf.gather(out, cols, axis=2, batch_dims=1)
    out = out * tf.random.stateless_uniform((b, 1, 1, 1), s[1], 0.7, 1.3)
    out = out + 0.05 * tf.random.stateless_normal(tf.shape(out), s[2])
    return tf.clip_by_value(out, 0.0, 1.0)


def make_views(images, seed=(0, 0)):
    seed = tf.cast(seed, tf.int64)
    a, b = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    return (augment(images, a), augment(images, b))


def views_dataset(batch_size=32, with_index=False, seed=0, size=None):
    """Repeated, shuffled digits as ``{"views": [v1, v2], "index"}`` batches."""
    x, _ = digits_arrays("train")
    x = x.astype("float32")[:size] if size else x.astype("float32")
    n = len(x)
    ds = tf.data.Dataset.from_tensor_slices({"image": x, "index": np.arange(n, dtype="int64")})
    ds = ds.shuffle(n, seed=seed).repeat().batch(batch_size, drop_remainder=True)

    def to_views(batch):
        step_seed = tf.stack([tf.cast(batch["index"][0], tf.int64), tf.constant(seed, tf.int64)])
        out = {"views": make_views(batch["image"], step_seed)}
        if with_index:
            out["index"] = batch["index"]
        return out

    return ds.map(to_views)


@pytest.fixture
def data():
    class _D:
        views_dataset = staticmethod(views_dataset)
        make_views = staticmethod(make_views)
        augment = staticmethod(augment)

    return _D
