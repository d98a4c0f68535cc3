"""Augmentation: batched per-image ops, AutoAugment/RandAugment policies, view builders, mixing.

See ``tfless.augment.ops`` for the op library and magnitude conventions,
``tfless.augment.policies`` for published policies and RandAugment,
``tfless.augment.views`` for the batch-dict view builders used by the trainer, and
``tfless.augment.mix`` for mixup / CutMix.
"""

from tfless.augment.ops import OP_NAMES, OPS, apply_op, apply_per_image
from tfless.augment.policies import POLICIES, RANDAUGMENT_PRESETS, RandAugment, apply_policy
from tfless.augment.views import VIEWS, build_view

__all__ = [
    "OPS",
    "OP_NAMES",
    "POLICIES",
    "RANDAUGMENT_PRESETS",
    "VIEWS",
    "RandAugment",
    "apply_op",
    "apply_per_image",
    "apply_policy",
    "build_view",
]
