"""Label splits, the validation hold-out, class-imbalanced subsets, and their hashes.

Semi-supervised papers (FixMatch, MixMatch, ...) pick a fixed number of labeled
examples per class with a seed and treat the rest as unlabeled. The chosen
indices are hashed so that a run's manifest records exactly which labels it saw.

Model selection during training (per-epoch validation, the online probe) never looks
at the test split: it uses the dataset's own ``validation`` split or, for datasets
without one, a stratified, seeded hold-out of the training split
(:func:`validation_holdout`), also hashed into the manifest.
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


#: The validation hold-out of the config schema (``data.val_size``): a tenth of the
#: training split. On CIFAR-10 that is the 5,000 images the FixMatch and MixMatch code
#: holds out (github.com/google-research/fixmatch), on the built-in digits 126 images (12
#: or 13 per class), enough to tell a few-point accuracy change apart, while costing each
#: class only a tenth of its unlabeled pool. "Realistic Evaluation of Deep Semi-Supervised
#: Learning Algorithms" (Oliver et al. 2018, arXiv:1804.09170) notes that such a
#: validation set is larger than the labeled set of a few-label run; it is used here
#: only to monitor and select, never to train, and the test split stays untouched until
#: the end.
DEFAULT_VAL_SIZE = 0.1


def resolve_val_size(val_size, num_examples: int) -> int:
    """The number of examples ``data.val_size`` holds out of ``num_examples``.

    Args:
      val_size: a count (an integer >= 1, or a float equal to one, as a config override
        of a float field arrives), a fraction in (0, 1) of ``num_examples`` (rounded,
        at least 1), or 0 / None for no hold-out.
      num_examples: size of the training split.

    Raises:
      ValueError: naming the bad value: negative, a float >= 1 that is not a whole
        number, a bool, or a count that leaves no training example.
    """
    if val_size is None:
        return 0
    bad = isinstance(val_size, bool) or not isinstance(val_size, (int, float, np.number))
    if bad or not val_size >= 0 or (val_size >= 1 and val_size != int(val_size)):
        raise ValueError(
            f"data.val_size must be a count of held-out training examples (an integer >= 1), "
            f"a fraction in (0, 1) of the training split, or 0 for no validation; "
            f"got {val_size!r}."
        )
    if val_size == 0:
        return 0
    count = int(val_size) if val_size >= 1 else max(1, int(round(val_size * num_examples)))
    if count >= num_examples:
        raise ValueError(
            f"data.val_size={val_size!r} holds out {count} of the {num_examples} training "
            f"examples; expected fewer than {num_examples}."
        )
    return count


def validation_holdout(
    labels, size: int, seed: int = 0, keep_per_class: int = 1
) -> tuple[np.ndarray, np.ndarray, str]:
    """A stratified, seeded validation hold-out of ``size`` training examples.

    Each class gives about ``size * n_c / N`` examples (within one): every class first
    gives one, then the examples of all classes are taken in the order of their
    position within their own (seeded) class permutation, relative to the class size,
    so small classes keep their share. ``keep_per_class`` examples of each class stay in
    training (the labeled split needs them): a class with no more than that gives none.
    When that leaves fewer than ``size`` examples to hold out, only one per class is
    kept, and the labeled split refuses its too-small classes with its own message
    (:func:`labeled_unlabeled_split`).

    Args:
      labels: int array ``[N]`` of the training split's class ids.
      size: examples to hold out (see :func:`resolve_val_size`), >= the number of classes.
      seed: seed of the choice.
      keep_per_class: examples of each class to keep in training (>= 1).

    Returns:
      ``(val_indices, train_indices, hash)``: sorted int64 positions in the training
      split, disjoint and together all of it, and :func:`split_hash` of ``val_indices``.

    Raises:
      ValueError: if ``size`` is below the number of classes (the hold-out could not
        hold every class), or exceeds what the classes can give while keeping one
        example each in training.
    """
    labels = np.asarray(labels).reshape(-1)
    classes, counts = np.unique(labels, return_counts=True)
    keep = max(1, int(keep_per_class))
    if size < len(classes):
        raise ValueError(
            f"A validation hold-out of {size} examples cannot hold each of the "
            f"{len(classes)} classes; set data.val_size to at least {len(classes)} "
            "examples, or to 0 for no validation."
        )
    keys, tiebreak = _holdout_keys(labels, classes, counts, keep, seed)
    if size > np.isfinite(keys).sum():
        # Keeping `keep` of every class is impossible: hold out what was asked and let the
        # labeled split refuse its too-small classes with its own message.
        keys, tiebreak = _holdout_keys(labels, classes, counts, 1, seed)
    available = int(np.isfinite(keys).sum())
    if size > available:
        raise ValueError(
            f"A validation hold-out of {size} examples leaves some class without a "
            f"training example; expected data.val_size of at most {available}."
        )
    order = np.lexsort((tiebreak, keys))
    val = np.sort(order[:size]).astype(np.int64)
    train = np.setdiff1d(np.arange(len(labels), dtype=np.int64), val)
    return val, train, split_hash(val)


def _holdout_keys(labels, classes, counts, keep: int, seed: int):
    """``(sort keys, tie-breaks)`` of :func:`validation_holdout`: the hold-out is the
    examples of the smallest keys.

    A class's examples, in a seeded random order, get their relative position in it as
    key, except the first (-1: every class gives one) and the last ``keep`` (inf: never
    held out). A class of at most ``keep`` examples gives none.
    """
    rng = np.random.RandomState(seed)
    keys = np.empty(len(labels))
    for c, n in zip(classes, counts):
        members = rng.permutation(np.flatnonzero(labels == c))
        key = np.full(n, np.inf)
        if n > keep:
            key[: n - keep] = (np.arange(n - keep) + 0.5) / n
            key[0] = -1.0
        keys[members] = key
    return keys, rng.permutation(len(labels))


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


def select(ds: tf.data.Dataset, indices, renumber: bool = False) -> tf.data.Dataset:
    """Keeps the examples of an unbatched dataset whose position is in ``indices``.

    With ``renumber``, the kept examples' ``index`` becomes their position among the
    kept ones (``0..len(indices) - 1``), so that per-example state (memory banks,
    cluster assignments, label propagation) indexes the subset densely.
    """
    indices = np.asarray(indices, dtype=np.int64)
    size = int(indices.max()) + 1 if len(indices) else 0
    mask = np.zeros([size], dtype=bool)
    mask[indices] = True
    mask_t = tf.constant(mask)

    def keep(i, _):
        return tf.logical_and(i < size, tf.gather(mask_t, tf.minimum(i, max(size - 1, 0))))

    kept = ds.enumerate().filter(keep).map(lambda _, ex: ex)
    if renumber:
        kept = kept.enumerate().map(lambda i, ex: {**ex, "index": i})
    return kept
