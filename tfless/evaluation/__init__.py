"""Evaluation harness for any encoder: linear probe, weighted kNN, fine-tuning, plots.

Every entry point accepts a tfless ``Method``, a ``keras.Model``, a
``keras.layers.TFSMLayer``, a loaded SavedModel or its directory, or any
callable ``images -> features`` (see :func:`feature_fn`).
"""

from tfless.evaluation.features import extract_features, feature_fn
from tfless.evaluation.knn import knn_evaluate, knn_features, knn_predict
from tfless.evaluation.linear_probe import fit_linear_probe, linear_probe, linear_probe_features

__all__ = [
    "extract_features",
    "feature_fn",
    "fit_linear_probe",
    "knn_evaluate",
    "knn_features",
    "knn_predict",
    "linear_probe",
    "linear_probe_features",
]
