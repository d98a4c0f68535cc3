"""Augmentation: batched per-image ops, policies as data, view builders, mixing.

See ``tfless.augment.ops`` for the op library and magnitude conventions,
``tfless.augment.policies`` for published policies, policy files and RandAugment,
``tfless.augment.search_space`` for learned policies held as tensors,
``tfless.augment.views`` for the batch-dict view builders used by the data pipelines, and
``tfless.augment.mix`` for mixup / CutMix. This package holds no training loops: the
searches and learned-augmentation methods live in ``tfless.methods.augment``.
"""

from tfless.augment.ops import OP_NAMES, OPS, apply_op, apply_per_image
from tfless.augment.policies import (
    POLICIES,
    RANDAUGMENT_PRESETS,
    RandAugment,
    apply_policy,
    load_policy,
    save_policy,
)
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
    "load_policy",
    "save_policy",
]
