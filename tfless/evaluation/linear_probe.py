"""Linear probe: multinomial logistic regression on frozen, cached encoder features.

The standard linear evaluation protocol of self-supervised learning (Zhang et
al. 2016 "Colorful Image Colorization", Sec. 3.2; Kolesnikov, Zhai & Beyer 2019
"Revisiting Self-Supervised Visual Representation Learning"): the encoder is
frozen, its features are computed once, and an L2-regularised multinomial
logistic regression is fit on them. The encoder is only called, never trained.
"""

from __future__ import annotations

import numpy as np

from tfless.evaluation.settings import DEFAULTS


def _check_xy(features: np.ndarray, labels: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    features = np.asarray(features, np.float32)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    if features.ndim != 2:
        raise ValueError(f"{what} features must be [N, D]; got shape {features.shape}.")
    if len(features) != len(labels):
        raise ValueError(
            f"{what} features and labels differ in length: {len(features)} vs {len(labels)}."
        )
    if len(labels) == 0:
        raise ValueError(f"{what} set is empty; expected at least one example.")
    return features, labels


def fit_linear_probe(
    train_features,
    train_labels,
    c: float = DEFAULTS.probe_c,
    max_iter: int = DEFAULTS.probe_max_iter,
):
    """Fits the probe on cached features; returns a fitted sklearn pipeline.

    Args:
      train_features: float ``[N, D]``.
      train_labels: int ``[N]``.
      c: inverse L2 strength of the logistic regression (sklearn's ``C``), > 0.
      max_iter: L-BFGS iterations.

    Returns:
      ``sklearn.pipeline.Pipeline`` (feature standardisation + multinomial logistic
      regression) with ``predict``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if not c > 0:
        raise ValueError(f"c must be > 0; got {c!r}.")
    x, y = _check_xy(train_features, train_labels, "train")
    if len(np.unique(y)) < 2:
        raise ValueError(
            f"the probe needs at least 2 classes in the train labels; got {np.unique(y)}."
        )
    # Standardising makes one C work for encoders whose feature scales differ by orders
    # of magnitude (random init vs trained, ReLU maps vs normalised projections).
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    probe.fit(x, y)
    return probe


def linear_probe_features(
    train_features,
    train_labels,
    test_features,
    test_labels,
    c: float = DEFAULTS.probe_c,
    max_iter: int = DEFAULTS.probe_max_iter,
) -> dict:
    """Linear-probe top-1 accuracy of cached features.

    Args:
      train_features, test_features: float ``[N, D]`` / ``[M, D]``.
      train_labels, test_labels: int ``[N]`` / ``[M]``.
      c, max_iter: see :func:`fit_linear_probe`.

    Returns:
      ``{"linear_accuracy": float, "linear_train_accuracy": float}``.
    """
    probe = fit_linear_probe(train_features, train_labels, c=c, max_iter=max_iter)
    xt, yt = _check_xy(test_features, test_labels, "test")
    x, y = _check_xy(train_features, train_labels, "train")
    return {
        "linear_accuracy": float(np.mean(probe.predict(xt) == yt)),
        "linear_train_accuracy": float(np.mean(probe.predict(x) == y)),
    }
