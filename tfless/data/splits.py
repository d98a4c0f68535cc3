"""Label splits: N labels per class, class-imbalanced subsets, and their hashes.

Semi-supervised papers (FixMatch, MixMatch, ...) pick a fixed number of labeled
examples per class with a seed and treat the rest as unlabeled. The chosen
indices are hashed so that a run's manifest records exactly which labels it saw.
"""

from __future__ import annotations

import hashlib

import numpy as np
import tensorflow as tf


def split_hash(indices) -> str:
    """A stable sha256 (first 16 hex digits) of a set of example indices."""
    arr = np.sort(np.asarray(indices, dtype=np.int64))
    return hashlib.sha256(arr.tobytes()).hexdigest()[:16]


def labeled_unlabeled_split(
    labels, num_per_class: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, str]:
    """Chooses ``num_per_class`` labeled examples per class; the rest is unlabeled.

    Args:
      labels: int array ``[N]`` of class ids.
      num_per_class: labeled examples to keep for each class (>= 1).
      seed: seed of the choice.

    Returns:
      ``(labeled_indices, unlabeled_indices, hash)``; indices are sorted int64
      arrays and ``hash`` is :func:`split_hash` of the labeled indices.

    Raises:
      ValueError: if ``num_per_class`` is not positive, or larger than some class
        has (the message names the class and its size).
    """
    labels = np.asarray(labels)
    if not isinstance(num_per_class, (int, np.integer)) or num_per_class < 1:
        raise ValueError(f"num_per_class must be a positive integer; got {num_per_class!r}.")
    classes, counts = np.unique(labels, return_counts=True)
    too_small = [(int(c), int(n)) for c, n in zip(classes, counts) if n < num_per_class]
    if too_small:
        raise ValueError(
            f"num_per_class={num_per_class} is larger than the number of examples of "
            f"class(es) {[c for c, _ in too_small]} (sizes {[n for _, n in too_small]}); "
            f"expected at most {int(counts.min())}."
        )
    rng = np.random.RandomState(seed)
    chosen = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        chosen.append(rng.choice(idx, num_per_class, replace=False))
    labeled = np.sort(np.concatenate(chosen)).astype(np.int64)
    unlabeled = np.setdiff1d(np.arange(len(labels), dtype=np.int64), labeled)
    return labeled, unlabeled, split_hash(labeled)


def validate_labeled_split(labels, num_classes: int, name: str = "Labeled split") -> None:
    """Raises ``ValueError`` unless every class in ``[0, num_classes)`` has a labeled example.

    A class without any labeled example cannot be learned by a (semi-)supervised method,
    so the pipelines check the labeled subset before training.

    Args:
      labels: int array ``[N_labeled]`` of the labeled subset.
      num_classes: number of classes of the task.
      name: how error messages name the subset, e.g. ``"The labeled split of 'digits'"``.
    """
    labels = np.asarray(labels).reshape(-1)
    if labels.size == 0:
        raise ValueError(f"{name} is empty; expected examples of {num_classes} classes.")
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise ValueError(
            f"{name} has label(s) {sorted(set(bad.tolist()))} outside [0, {num_classes})."
        )
    counts = np.bincount(labels.astype(np.int64), minlength=num_classes)
    empty = [int(c) for c in np.flatnonzero(counts == 0)]
    if empty:
        raise ValueError(
            f"{name} has zero examples of class(es) {empty} (counts per class: "
            f"{counts.tolist()}); expected at least one labeled example of each of the "
            f"{num_classes} classes."
        )


def imbalanced_indices(labels, imbalance_ratio: float, seed: int = 0) -> np.ndarray:
    """Long-tailed subsample: class ``i`` keeps ``n_max * ratio**(-i / (C - 1))`` examples.

    The exponential profile of Cui et al. 2019 ("Class-Balanced Loss") used by
    long-tailed CIFAR benchmarks; class 0 is the head, class ``C-1`` the tail and
    keeps ``n_max / imbalance_ratio`` examples.

    Args:
      labels: int array ``[N]``.
      imbalance_ratio: head size / tail size, >= 1.
      seed: seed of the subsample.

    Returns:
      Sorted int64 indices of the kept examples.
    """
    labels = np.asarray(labels)
    if not imbalance_ratio >= 1:
        raise ValueError(f"imbalance_ratio must be >= 1; got {imbalance_ratio!r}.")
    classes, counts = np.unique(labels, return_counts=True)
    n_max = int(counts.min())
    rng = np.random.RandomState(seed)
    kept = []
    num_classes = len(classes)
    for i, c in enumerate(classes):
        frac = imbalance_ratio ** (-i / max(num_classes - 1, 1))
        n = max(1, int(n_max * frac))
        kept.append(rng.choice(np.flatnonzero(labels == c), n, replace=False))
    return np.sort(np.concatenate(kept)).astype(np.int64)


def select(ds: tf.data.Dataset, indices) -> tf.data.Dataset:
    """Keeps the examples of an unbatched dataset whose position is in ``indices``."""
    indices = np.asarray(indices, dtype=np.int64)
    size = int(indices.max()) + 1 if len(indices) else 0
    mask = np.zeros([size], dtype=bool)
    mask[indices] = True
    mask_t = tf.constant(mask)

    def keep(i, _):
        return tf.logical_and(i < size, tf.gather(mask_t, tf.minimum(i, max(size - 1, 0))))

    return ds.enumerate().filter(keep).map(lambda _, ex: ex)
