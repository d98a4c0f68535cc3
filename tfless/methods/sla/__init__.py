"""Self-supervised label augmentation (SLA) and its baselines; ``SLA_METHODS`` is merged into
``tfless.methods.METHODS``.

Lee, Hwang & Shin, "Self-supervised Label Augmentation via Input Transformations" (ICML 2020,
arXiv 1910.05872). On the same backbone: the baseline is ``supervised``; ``sla_da`` learns
invariance to the transformations, ``sla_mt`` predicts them with a second head, ``sla``
predicts the joint (class, transformation) label (SLA+AG or SLA+SI inference) and
``sla_sd`` adds a self-distilled single head. Every method reads ``{"image", "label"}``
and expands each image into its ``M`` transformed copies in-graph, except the few-shot
``sla_protonet``, which reads episode meta-batches (Prototypical Networks on joint classes).
"""

from tfless.methods.sla.base import TransformClassifier
from tfless.methods.sla.da import TransformAugmentation
from tfless.methods.sla.mt import TransformMultiTask
from tfless.methods.sla.sla import SLA, SLA_INFERENCE, JointSingleHead
from tfless.methods.sla.sla_protonet import SLA_PROTONET_INFERENCE, SLAProtoNet
from tfless.methods.sla.sla_sd import SD_INFERENCE, SLASelfDistillation

SLA_METHODS: dict = {
    "sla_da": TransformAugmentation,
    "sla_mt": TransformMultiTask,
    "sla": SLA,
    "sla_sd": SLASelfDistillation,
    "sla_protonet": SLAProtoNet,
}

__all__ = [
    "SD_INFERENCE",
    "SLA",
    "SLA_INFERENCE",
    "SLA_METHODS",
    "SLA_PROTONET_INFERENCE",
    "JointSingleHead",
    "SLAProtoNet",
    "SLASelfDistillation",
    "TransformAugmentation",
    "TransformClassifier",
    "TransformMultiTask",
]
