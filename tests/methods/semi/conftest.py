"""Tiny semi-supervised data for the method tests: digits 8x8, 4 labels per class.

Views are built here with plain TF ops (small random translations, noise and
cutout) so the method tests do not depend on the augmentation package.
"""

import numpy as np
import pytest
import tensorflow as tf

from tests import testing
from tfless.data import digits_arrays, labeled_unlabeled_split


def _translate(images, pad=1):
    b = tf.shape(images)[0]
    h, w, c = images.shape[1:]
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
    dy = tf.random.uniform([b], 0, 2 * pad + 1, dtype=tf.int32)
    dx = tf.random.uniform([b], 0, 2 * pad + 1, dtype=tf.int32)
    rows = dy[:, None] + tf.range(h)[None]
    cols = dx[:, None] + tf.range(w)[None]
    out = tf.gather(padded, rows, axis=1, batch_dims=1)
    out = tf.gather(out, cols, axis=2, batch_dims=1)
    return tf.reshape(out, [-1, h, w, c])


def weak(images):
    return _translate(images)


def strong(images):
    x = _translate(images, pad=2)
    x = x + tf.random.normal(tf.shape(x), stddev=0.15)
    b = tf.shape(x)[0]
    h, w = x.shape[1:3]
    cy = tf.random.uniform([b, 1, 1, 1], 0, h, dtype=tf.int32)
    cx = tf.random.uniform([b, 1, 1, 1], 0, w, dtype=tf.int32)
    yy = tf.range(h)[None, :, None, None]
    xx = tf.range(w)[None, None, :, None]
    hole = (tf.abs(yy - cy) <= 1) & (tf.abs(xx - cx) <= 1)
    return tf.clip_by_value(tf.where(hole, 0.5, x), 0.0, 1.0)


def views_weak_strong(images):
    return {"image_weak": weak(images), "image_strong": strong(images)}


def views_single(images):
    return {"image": weak(images)}


def views_multi_weak(k):
    # A tuple: tf.data would stack a list into one [K, B, ...] tensor, which tf.distribute
    # would then split along K.
    return lambda images: {"views": tuple(weak(images) for _ in range(k))}


def make_semi_dataset(views, batch=20, mu=2, labels_per_class=4, seed=0, with_index=False):
    """Infinite semi batches on digits: labeled batch ``batch``, unlabeled ``mu * batch``."""
    x, y = digits_arrays("train")
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.int32)
    lab_idx, _, _ = labeled_unlabeled_split(y, labels_per_class, seed=seed)
    lab = tf.data.Dataset.from_tensor_slices({"image": x[lab_idx], "label": y[lab_idx]})
    lab = lab.repeat().shuffle(len(lab_idx), seed=seed).batch(batch, drop_remainder=True)
    lab = lab.map(lambda b: {"image": weak(b["image"]), "label": b["label"]})
    idx = np.arange(len(y), dtype=np.int64)
    unl = tf.data.Dataset.from_tensor_slices({"image": x, "label": y, "index": idx})
    unl = unl.repeat().shuffle(len(y), seed=seed + 1).batch(batch * mu, drop_remainder=True)

    def unlabeled(b):
        out = dict(views(b["image"]))
        out["true_label"] = b["label"]
        if with_index:
            out["index"] = b["index"]
        return out

    unl = unl.map(unlabeled)
    ds = tf.data.Dataset.zip(lab, unl).map(lambda a, b: {"labeled": a, "unlabeled": b})
    return ds.prefetch(2), (x, y, lab_idx)


def digits_test_dataset():
    x, y = digits_arrays("test")
    return tf.data.Dataset.from_tensor_slices(
        {"image": np.asarray(x, np.float32), "label": np.asarray(y, np.int32)}
    ).batch(270)


def tiny_encoder(widths=(16, 32), **kwargs):
    """A small convnet whose batch-norm statistics settle within the few dozen test steps."""
    return testing.tiny_encoder(widths=widths, bn_momentum=0.8, seed=None, **kwargs)


@pytest.fixture
def semi():
    """Namespace of the helpers above."""

    class _N:
        pass

    n = _N()
    for f in (
        make_semi_dataset,
        digits_test_dataset,
        tiny_encoder,
        views_weak_strong,
        views_single,
        views_multi_weak,
        weak,
        strong,
    ):
        setattr(n, f.__name__, staticmethod(f))
    return n
