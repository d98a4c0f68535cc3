"""Evaluation of any encoder: the method's own accuracy, linear probe, weighted kNN,
few-label probe, fine-tuning, t-SNE plots.

:func:`evaluate_encoder` runs the protocols; the trainer, ``tfless-eval`` and the
model zoo all go through it, with the parameters of :data:`DEFAULTS` unless they pass
other :class:`ProtocolSettings`. Every entry point accepts a tfless ``Method``, a
``keras.Model``, a ``keras.layers.TFSMLayer``, a loaded SavedModel or its directory,
or any callable ``images -> features`` (see :func:`feature_fn`). The functions on
cached features (:func:`knn_features`, :func:`linear_probe_features`) are the
protocols' building blocks.
"""

from tfless.evaluation.callbacks import OnlineLinearProbe, online_probe_callbacks
from tfless.evaluation.features import extract_features, feature_fn, keras_encoder
from tfless.evaluation.finetune import finetune, label_subset, trainable_copy
from tfless.evaluation.knn import knn_features, knn_predict
from tfless.evaluation.linear_probe import fit_linear_probe, linear_probe_features
from tfless.evaluation.plots import embed_2d, embedding_grid, embedding_plot
from tfless.evaluation.protocols import (
    PROTOCOLS,
    check_protocols,
    evaluate_encoder,
    has_classifier,
)
from tfless.evaluation.report import markdown_table, write_results
from tfless.evaluation.settings import DEFAULTS, ProtocolSettings

__all__ = [
    "DEFAULTS",
    "PROTOCOLS",
    "OnlineLinearProbe",
    "ProtocolSettings",
    "check_protocols",
    "embed_2d",
    "embedding_grid",
    "embedding_plot",
    "evaluate_encoder",
    "extract_features",
    "feature_fn",
    "finetune",
    "fit_linear_probe",
    "has_classifier",
    "keras_encoder",
    "knn_features",
    "knn_predict",
    "label_subset",
    "linear_probe_features",
    "markdown_table",
    "online_probe_callbacks",
    "trainable_copy",
    "write_results",
]
