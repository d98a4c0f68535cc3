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
from tfless.methods.fewshot import (
    FEWSHOT_METHODS,
    MAML,
    MANN,
    SNAIL,
    Baseline,
    BaselinePP,
    MatchingNet,
    MetaLSTM,
    ProtoNet,
)
from tfless.methods.generative import GENERATIVE_METHODS, NRM, CycleGAN
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
from tfless.methods.sla import (
    SLA,
    SLA_METHODS,
    SLAProtoNet,
    SLASelfDistillation,
    TransformAugmentation,
    TransformMultiTask,
)
from tfless.methods.supervised import Supervised

# Not in METHODS: these read generated equations, not images, and train with fit_symbolic.
from tfless.methods.symbolic import (
    SYMBOLIC_METHODS,
    FunctionEvaluator,
    SequenceLSTMVerifier,
    TreeLSTMVerifier,
)
from tfless.methods.weak import WEAK_METHODS, BiT, MultiTag, NoisyLabel

METHODS: dict[str, type[Method]] = {
    "supervised": Supervised,
    **SEMI_METHODS,
    **PRETEXT_METHODS,
    **CONTRASTIVE_METHODS,
    **CLUSTERING_METHODS,
    **AUGMENT_METHODS,
    **FEWSHOT_METHODS,
    **SLA_METHODS,
    **WEAK_METHODS,
    **GENERATIVE_METHODS,
}


def get_method_class(name: str) -> type[Method]:
    """The method class registered as ``name``; raises ``ValueError`` naming the accepted names."""
    if name not in METHODS:
        raise ValueError(f"Unknown method {name!r}. Expected one of {sorted(METHODS)}.")
    return METHODS[name]


__all__ = [
    "AMDIM",
    "CPC",
    "MAML",
    "MANN",
    "METHODS",
    "PIRL",
    "VAT",
    "AdversarialAutoAugment",
    "Autoencoder",
    "Baseline",
    "BaselinePP",
    "BiT",
    "ClassifierMixin",
    "Colorization",
    "ContextPrediction",
    "CycleGAN",
    "DeepCluster",
    "FixMatch",
    "FunctionEvaluator",
    "Jigsaw",
    "LabelPropagation",
    "MatchingNet",
    "MeanTeacher",
    "MetaLSTM",
    "Method",
    "MixMatch",
    "MoCo",
    "MultiTag",
    "NRM",
    "NoisyLabel",
    "ProtoNet",
    "PseudoLabel",
    "ReMixMatch",
    "Rotation",
    "SLA",
    "SNAIL",
    "SLAProtoNet",
    "SLASelfDistillation",
    "SimCLR",
    "SYMBOLIC_METHODS",
    "SequenceLSTMVerifier",
    "Supervised",
    "TransformAugmentation",
    "TransformMultiTask",
    "TreeLSTMVerifier",
    "UncertaintySampling",
    "get_method_class",
]
