"""Evaluation of any encoder: the method's own accuracy, linear probe, weighted kNN,
few-label probe, fine-tuning, t-SNE plots, N-way K-shot episodes (``fewshot``).

:func:`evaluate_encoder` runs the protocols; the trainer, ``tfless-eval`` and the
model zoo all go through it, with the parameters of :data:`DEFAULTS` unless they pass
other :class:`ProtocolSettings`. Every entry point accepts a tfless ``Method``, a
``keras.Model``, a ``keras.layers.TFSMLayer``, a loaded SavedModel or its directory,
or any callable ``images -> features`` (see :func:`feature_fn`). The functions on
cached features (:func:`knn_features`, :func:`linear_probe_features`) are the
protocols' building blocks.
"""

import importlib

# Loaded on first use, so that a console script can answer ``--help`` before
# TensorFlow loads.
_WHERE = {
    "OnlineLinearProbe": "callbacks",
    "online_probe_callbacks": "callbacks",
    "extract_features": "features",
    "feature_fn": "features",
    "keras_encoder": "features",
    "finetune": "finetuning",
    "FewShotSettings": "fewshot",
    "evaluate_fewshot": "fewshot",
    "label_subset": "finetuning",
    "trainable_copy": "finetuning",
    "knn_features": "knn",
    "knn_predict": "knn",
    "fit_linear_probe": "linear_probe",
    "linear_probe_features": "linear_probe",
    "embed_2d": "plots",
    "embedding_grid": "plots",
    "embedding_plot": "plots",
    "PROTOCOLS": "protocols",
    "check_protocols": "protocols",
    "evaluate_encoder": "protocols",
    "has_classifier": "protocols",
    "markdown_table": "report",
    "write_results": "report",
    "DEFAULTS": "settings",
    "ProtocolSettings": "settings",
}

__all__ = [
    "DEFAULTS",
    "FewShotSettings",
    "PROTOCOLS",
    "OnlineLinearProbe",
    "ProtocolSettings",
    "check_protocols",
    "embed_2d",
    "embedding_grid",
    "embedding_plot",
    "evaluate_encoder",
    "evaluate_fewshot",
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


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
