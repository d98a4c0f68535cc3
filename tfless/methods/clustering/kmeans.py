"""The clustering step of DeepCluster: PCA whitening, L2 normalization, k-means (NumPy).

Caron et al. 2018 (arXiv:1807.05520), Sec. 3.2 and 3.3. Exact Lloyd iterations in
NumPy, chunked over examples; fine for up to ~1e5 examples and 1e3 clusters on a CPU.
(The paper uses faiss on GPUs for ImageNet.)
"""

from __future__ import annotations

import numpy as np


def pca_whiten(features: np.ndarray, dim: int, eps: float = 1e-5) -> np.ndarray:
    """Projects ``[N, D]`` on the top ``min(dim, D, N)`` principal axes, scaled to unit variance."""
    x = np.asarray(features, dtype=np.float64)
    x = x - x.mean(axis=0, keepdims=True)
    dim = int(min(dim, x.shape[1], x.shape[0]))
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    var = s[:dim] ** 2 / max(len(x) - 1, 1)
    return ((x @ vt[:dim].T) / np.sqrt(var + eps)).astype(np.float32)


def l2_normalize_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _assign(x, centroids, chunk=4096):
    labels = np.empty(len(x), dtype=np.int64)
    c2 = (centroids**2).sum(1)
    for s in range(0, len(x), chunk):
        d = c2[None] - 2.0 * x[s : s + chunk] @ centroids.T
        labels[s : s + chunk] = d.argmin(1)
    return labels


def kmeans(
    x: np.ndarray, k: int, iterations: int = 20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, int]:
    """Lloyd's k-means with DeepCluster's empty-cluster reassignment.

    When a cluster becomes empty, a non-empty cluster is drawn with probability
    proportional to its size, its centroid is copied with a small symmetric
    perturbation to both copies, and its points are split between the two
    (Caron et al. 2018, Sec. 3.3, "Empty clusters").

    Args:
      x: ``[N, D]`` float data.
      k: number of clusters, ``1 <= k <= N``.
      iterations: Lloyd iterations.
      seed: seed of the k-means++ initialization and of the reassignment.

    Returns:
      ``(labels [N] int64, centroids [k, D], number of empty-cluster reassignments)``.
    """
    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    if not 1 <= k <= n:
        raise ValueError(f"k-means needs 1 <= k <= number of points ({n}); got k={k}.")
    rng = np.random.RandomState(seed)
    centroids = _kmeans_pp(x, k, rng)
    labels, reassigned = _fill_empty(x, _assign(x, centroids), centroids, k, rng)
    for _ in range(iterations):
        counts = np.bincount(labels, minlength=k)
        sums = np.zeros_like(centroids)
        np.add.at(sums, labels, x)
        centroids = sums / np.maximum(counts, 1)[:, None]
        labels, count = _fill_empty(x, _assign(x, centroids), centroids, k, rng)
        reassigned += count
    return labels, centroids, reassigned


def _kmeans_pp(x, k, rng):
    """k-means++ seeding (Arthur & Vassilvitskii 2007): fewer bad local minima than random."""
    centroids = np.empty((k, x.shape[1]), np.float32)
    centroids[0] = x[rng.randint(len(x))]
    d2 = ((x - centroids[0]) ** 2).sum(1)
    for i in range(1, k):
        total = d2.sum()
        j = rng.choice(len(x), p=d2 / total) if total > 0 else rng.randint(len(x))
        centroids[i] = x[j]
        d2 = np.minimum(d2, ((x - centroids[i]) ** 2).sum(1))
    return centroids


def _fill_empty(x, labels, centroids, k, rng):
    """Gives every empty cluster half of a size-weighted random donor cluster (in place)."""
    counts = np.bincount(labels, minlength=k)
    reassigned = 0
    for c in np.flatnonzero(counts == 0):
        donors = np.flatnonzero(counts > 1)
        if donors.size == 0:
            break
        donor = rng.choice(donors, p=counts[donors] / counts[donors].sum())
        eps = 1e-4 * rng.randn(x.shape[1]).astype(np.float32)
        centroids[c] = centroids[donor] + eps
        centroids[donor] = centroids[donor] - eps
        members = np.flatnonzero(labels == donor)
        to_new = ((x[members] - centroids[c]) ** 2).sum(1) < (
            (x[members] - centroids[donor]) ** 2
        ).sum(1)
        if to_new.all() or not to_new.any():
            # Identical points: the perturbation cannot split them, so split at random.
            to_new = rng.rand(members.size) < 0.5
            to_new[0], to_new[-1] = True, False
        labels[members[to_new]] = c
        counts = np.bincount(labels, minlength=k)
        reassigned += 1
    return labels, reassigned


def uniform_cluster_weights(labels: np.ndarray, k: int) -> np.ndarray:
    """Per-cluster weights ``N / (K_nonempty * n_c)`` (0 for empty clusters), shape ``[k]``.

    Weighting each example's loss by its cluster's weight gives, in expectation,
    the loss of sampling clusters uniformly and then an example uniformly within
    the cluster: DeepCluster's sampler (Sec. 3.3, "Trivial parametrization").
    The weights average to 1 over the dataset.
    """
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    nonempty = counts > 0
    weights = np.zeros(k, dtype=np.float32)
    weights[nonempty] = len(labels) / (nonempty.sum() * counts[nonempty])
    return weights


def uniform_cluster_sample(labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """``size`` example indices drawn as the paper does: a uniform cluster, then a uniform member.

    For input pipelines that can take an explicit index order per epoch.
    """
    rng = np.random.RandomState(seed)
    clusters = np.unique(labels)
    members = {c: np.flatnonzero(labels == c) for c in clusters}
    picks = rng.choice(clusters, size)
    return np.array([rng.choice(members[c]) for c in picks], dtype=np.int64)
