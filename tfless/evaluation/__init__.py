"""Evaluation harness for any encoder: linear probe, weighted kNN, fine-tuning, plots.

Every entry point accepts a tfless ``Method``, a ``keras.Model``, a
``keras.layers.TFSMLayer``, a loaded SavedModel or its directory, or any
callable ``images -> features`` (see :func:`feature_fn`).
"""

from tfless.evaluation.callbacks import OnlineLinearProbe
from tfless.evaluation.features import extract_features, feature_fn
from tfless.evaluation.finetune import finetune, label_subset, trainable_copy
from tfless.evaluation.knn import knn_evaluate, knn_features, knn_predict
from tfless.evaluation.linear_probe import fit_linear_probe, linear_probe, linear_probe_features
from tfless.evaluation.plots import embed_2d, embedding_grid, embedding_plot
from tfless.evaluation.report import markdown_table, write_results

__all__ = [
    "OnlineLinearProbe",
    "embed_2d",
    "embedding_grid",
    "embedding_plot",
    "finetune",
    "label_subset",
    "markdown_table",
    "trainable_copy",
    "write_results",
    "extract_features",
    "feature_fn",
    "fit_linear_probe",
    "knn_evaluate",
    "knn_features",
    "knn_predict",
    "linear_probe",
    "linear_probe_features",
]
