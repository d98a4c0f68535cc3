"""Methods: ``METHODS[name]`` is a ``keras.Model`` subclass following :mod:`tfless.methods.base`."""

from __future__ import annotations

from tfless.methods.augment import AUGMENT_METHODS
from tfless.methods.base import ClassifierMixin, Method
from tfless.methods.clustering import CLUSTERING_METHODS
from tfless.methods.contrastive import CONTRASTIVE_METHODS
from tfless.methods.pretext import PRETEXT_METHODS
from tfless.methods.semi import SEMI_METHODS
from tfless.methods.supervised import Supervised

METHODS: dict[str, type[Method]] = {
    "supervised": Supervised,
    **SEMI_METHODS,
    **PRETEXT_METHODS,
    **CONTRASTIVE_METHODS,
    **CLUSTERING_METHODS,
    **AUGMENT_METHODS,
}


def get_method_class(name: str) -> type[Method]:
    """The method class registered as ``name``; raises ``ValueError`` naming the accepted names."""
    if name not in METHODS:
        raise ValueError(f"Unknown method {name!r}. Expected one of {sorted(METHODS)}.")
    return METHODS[name]


__all__ = ["METHODS", "ClassifierMixin", "Method", "Supervised", "get_method_class"]
