"""DeepCluster: clustering pieces vs NumPy facts, learning on digits, one vs two replicas."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.linear_model import LogisticRegression

from tests.testing import digits_images, replica_values, run_mirrored_equivalence, tiny_encoder
from tfless.backbones import build_backbone
from tfless.data import digits_arrays
from tfless.methods.clustering import DeepCluster, DeepClusterCallback
from tfless.methods.clustering.kmeans import (
    kmeans,
    pca_whiten,
    uniform_cluster_sample,
    uniform_cluster_weights,
)


def test_pca_whiten_gives_identity_covariance():
    rng = np.random.RandomState(0)
    x = rng.randn(500, 6) @ rng.randn(6, 6) + 3.0
    z = pca_whiten(x, 4)
    assert z.shape == (500, 4)
    np.testing.assert_allclose(np.cov(z, rowvar=False), np.eye(4), atol=1e-3)


def test_kmeans_finds_blobs_and_fills_empty_clusters():
    rng = np.random.RandomState(0)
    centers = np.array([[0, 0], [10, 0], [0, 10]], "f4")
    x = np.concatenate([c + 0.1 * rng.randn(50, 2) for c in centers]).astype("f4")
    labels, _, _ = kmeans(x, 3, seed=1)
    truth = np.repeat(np.arange(3), 50)
    for c in range(3):  # each blob is one cluster
        assert len(set(labels[truth == c])) == 1
    # Two distinct points, 4 clusters: k-means alone leaves clusters empty.
    dup = np.concatenate([np.zeros((20, 2)), np.ones((20, 2))]).astype("f4")
    labels, _, reassigned = kmeans(dup, 4, seed=0)
    assert reassigned > 0 and np.all(np.bincount(labels, minlength=4) > 0)


def test_uniform_cluster_weights_and_sampler():
    labels = np.array([0] * 6 + [1] * 3 + [3] * 1)
    w = uniform_cluster_weights(labels, 4)
    np.testing.assert_allclose(w[labels].mean(), 1.0, rtol=1e-6)
    totals = [w[c] * np.sum(labels == c) for c in (0, 1, 3)]
    np.testing.assert_allclose(totals, totals[0], rtol=1e-6)  # every cluster counts the same
    assert w[2] == 0
    counts = np.bincount(labels[uniform_cluster_sample(labels, 3000, seed=0)], minlength=4)
    assert counts[2] == 0 and np.all(np.abs(counts[[0, 1, 3]] - 1000) < 120)


def _digits_ds(x, batch):
    ds = tf.data.Dataset.from_tensor_slices({"image": x, "index": np.arange(len(x))})
    return ds.shuffle(len(x), seed=0).repeat().batch(batch, drop_remainder=True)


def _probe(encoder, x, y, xt, yt):
    f, ft = encoder.predict(x, verbose=0), encoder.predict(xt, verbose=0)
    return LogisticRegression(max_iter=300).fit(f, y).score(ft, yt)


def test_deepcluster_learns_on_digits():
    x, y = digits_arrays("train")
    xt, yt = digits_arrays("test")
    keras.utils.set_random_seed(0)
    encoder = build_backbone("convnet", (8, 8, 1), widths=(8, 16))
    random_probe = _probe(encoder, x, y, xt, yt)
    method = DeepCluster(encoder, num_data=len(x), num_clusters=10, pca_dim=16)
    method.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    callback = DeepClusterCallback(x)
    hist = method.fit(
        _digits_ds(x, 64), steps_per_epoch=30, epochs=3, verbose=0, callbacks=[callback]
    )
    assert method.rounds == 3 and len(callback.nmi_history) == 2
    # The re-initialized classifier learns the pseudo-labels well below chance-level xent.
    assert max(hist.history["xent"]) < np.log(10) - 0.25, hist.history["xent"]
    trained_probe = _probe(encoder, x, y, xt, yt)
    assert trained_probe > random_probe + 0.1, (random_probe, trained_probe)


def test_deepcluster_head_reinitialized_each_round():
    x, _ = digits_arrays("train")
    method = DeepCluster(build_backbone("convnet", (8, 8, 1), widths=(4, 8)), len(x), 5, 4)
    feats = method.encoder.predict(x, verbose=0)
    method.recluster(feats)
    k1 = method.head.layers[-1].kernel.numpy().copy()
    method.head.layers[-1].kernel.assign(np.zeros_like(k1))
    method.recluster(feats)
    k2 = method.head.layers[-1].kernel.numpy()
    assert np.abs(k2).sum() > 0 and not np.allclose(k1, k2)


def test_deepcluster_two_replicas_train_as_one(mirrored_strategy):
    # Each epoch re-clusters the 64 images; both runs must find the same pseudo-labels
    # and the same re-initialized head, then take the same steps on them.
    x = digits_images(n=64)
    one, two, _, _ = run_mirrored_equivalence(
        lambda: DeepCluster(tiny_encoder(widths=(4, 8)), num_data=64, num_clusters=4, pca_dim=4),
        {"image": x[:8], "index": np.arange(8)},
        mirrored_strategy,
        steps=2,
        callbacks_fn=lambda method: [DeepClusterCallback(x)],
        keys=("loss", "xent"),
    )
    labels = one.pseudo_labels.numpy()
    assert len(np.unique(labels)) == 4 and two.rounds == one.rounds == 2
    for replica in replica_values(two.pseudo_labels):
        np.testing.assert_array_equal(replica, labels)


def test_deepcluster_bad_input():
    encoder = build_backbone("convnet", (8, 8, 1), widths=(4, 8))
    with pytest.raises(ValueError, match="num_clusters"):
        DeepCluster(encoder, num_data=10, num_clusters=11)
    with pytest.raises(ValueError, match="pca_dim"):
        DeepCluster(encoder, num_data=10, num_clusters=2, pca_dim=0)
    method = DeepCluster(encoder, num_data=10, num_clusters=2)
    with pytest.raises(ValueError, match="with_index=True"):
        method.compute_loss(x={"image": tf.zeros((2, 8, 8, 1))})
    with pytest.raises(ValueError, match="all 10 examples"):
        method.recluster(np.zeros((5, 8)))
