"""Weighted k-nearest-neighbour classification of frozen features.

The protocol of Wu, Xiong, Yu & Lin 2018 ("Unsupervised Feature Learning via
Non-Parametric Instance Discrimination", Sec. 3.4): features are L2-normalised,
the k training features with the highest cosine similarity ``s_i`` to a test
feature vote for their class with weight ``exp(s_i / tau)``, and the class with
the largest summed weight wins. Defaults: :data:`tfless.evaluation.DEFAULTS`
(k=200, tau=0.1, the paper's values).
"""

from __future__ import annotations

import numpy as np

from tfless.evaluation.linear_probe import _check_xy
from tfless.evaluation.settings import DEFAULTS


def knn_predict(
    train_features,
    train_labels,
    test_features,
    k: int = DEFAULTS.knn_k,
    temperature: float = DEFAULTS.knn_temperature,
    num_classes: int | None = None,
    chunk_size: int = 1024,
) -> np.ndarray:
    """Weighted-kNN class scores.

    Args:
      train_features: float ``[N, D]`` (the memory bank).
      train_labels: int ``[N]`` in ``[0, num_classes)``.
      test_features: float ``[M, D]``.
      k: neighbours; capped at ``N``.
      temperature: tau of the ``exp(s / tau)`` vote weights, > 0.
      num_classes: number of classes (default ``max(train_labels) + 1``).
      chunk_size: test rows per similarity matrix (bounds memory to ``chunk_size * N``).

    Returns:
      float ``[M, num_classes]`` summed vote weights; ``argmax`` is the prediction.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1; got {k!r}.")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0; got {temperature!r}.")
    bank, labels = _check_xy(train_features, train_labels, "train")
    test = np.asarray(test_features, np.float32)
    if test.ndim != 2 or test.shape[1] != bank.shape[1]:
        raise ValueError(
            f"test features must be [M, {bank.shape[1]}] like the train features; got {test.shape}."
        )
    num_classes = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    k = min(int(k), len(bank))
    eps = 1e-12
    bank = bank / (np.linalg.norm(bank, axis=1, keepdims=True) + eps)
    test = test / (np.linalg.norm(test, axis=1, keepdims=True) + eps)
    scores = np.zeros([len(test), num_classes], np.float64)
    for start in range(0, len(test), chunk_size):
        sim = test[start : start + chunk_size] @ bank.T  # [m, N]
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k]  # [m, k], unordered
        top_sim = np.take_along_axis(sim, top, axis=1).astype(np.float64)
        # Subtracting the row max leaves the argmax unchanged and keeps exp() finite.
        weights = np.exp((top_sim - top_sim.max(axis=1, keepdims=True)) / temperature)
        rows = np.repeat(np.arange(len(top))[:, None], k, axis=1)
        np.add.at(scores[start : start + chunk_size], (rows, labels[top]), weights)
    return scores


def knn_features(
    train_features,
    train_labels,
    test_features,
    test_labels,
    k: int = DEFAULTS.knn_k,
    temperature: float = DEFAULTS.knn_temperature,
) -> dict:
    """Weighted-kNN top-1 accuracy of cached features; returns ``{"knn_accuracy": float}``."""
    test_f, test_y = _check_xy(test_features, test_labels, "test")
    num_classes = int(max(np.max(train_labels), np.max(test_y))) + 1
    scores = knn_predict(train_features, train_labels, test_f, k, temperature, num_classes)
    return {"knn_accuracy": float(np.mean(scores.argmax(axis=1) == test_y))}
