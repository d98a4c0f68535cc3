"""Methods: ``METHODS[name]`` is a ``keras.Model`` subclass following :mod:`tfless.methods.base`.

Every registered method class is importable from here, to build on your own backbone::

    from tfless.methods import FixMatch, MoCo, SimCLR

    method = SimCLR(my_encoder)  # a built keras.Model [B, H, W, C] -> [B, D]
    method.compile(optimizer=keras.optimizers.Adam(1e-3))
    method.fit(my_dataset_of_dict_batches, steps_per_epoch=100, epochs=1)

The batch keys each method reads are its ``input_keys``.
"""

from __future__ import annotations

from tfless.methods.augment import (
    AUGMENT_METHODS,
    AdversarialAutoAugment,
    UncertaintySampling,
)
from tfless.methods.base import ClassifierMixin, Method
from tfless.methods.clustering import CLUSTERING_METHODS, DeepCluster
from tfless.methods.contrastive import AMDIM, CONTRASTIVE_METHODS, CPC, PIRL, MoCo, SimCLR
from tfless.methods.pretext import (
    PRETEXT_METHODS,
    Autoencoder,
    Colorization,
    ContextPrediction,
    Jigsaw,
    Rotation,
)
from tfless.methods.semi import (
    SEMI_METHODS,
    VAT,
    FixMatch,
    LabelPropagation,
    MeanTeacher,
    MixMatch,
    PseudoLabel,
    ReMixMatch,
)
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


__all__ = [
    "AMDIM",
    "CPC",
    "METHODS",
    "PIRL",
    "VAT",
    "AdversarialAutoAugment",
    "Autoencoder",
    "ClassifierMixin",
    "Colorization",
    "ContextPrediction",
    "DeepCluster",
    "FixMatch",
    "Jigsaw",
    "LabelPropagation",
    "MeanTeacher",
    "Method",
    "MixMatch",
    "MoCo",
    "PseudoLabel",
    "ReMixMatch",
    "Rotation",
    "SimCLR",
    "Supervised",
    "UncertaintySampling",
    "get_method_class",
]
