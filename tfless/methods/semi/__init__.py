"""Semi-supervised methods; ``SEMI_METHODS`` is merged into ``tfless.methods.METHODS``.

Every method reads ``{"labeled": {"image", "label"}, "unlabeled": {...}}`` batches
(see :mod:`tfless.methods.semi.common`).
"""

from tfless.methods.semi.common import (
    SemiMethod,
    check_semi_batch,
    validate_labeled_split,
    validate_mu,
    validate_threshold,
)
from tfless.methods.semi.fixmatch import FixMatch

SEMI_METHODS: dict = {
    "fixmatch": FixMatch,
}

__all__ = [
    "SEMI_METHODS",
    "FixMatch",
    "SemiMethod",
    "check_semi_batch",
    "validate_labeled_split",
    "validate_mu",
    "validate_threshold",
]
