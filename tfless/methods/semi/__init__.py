"""Semi-supervised methods; ``SEMI_METHODS`` is merged into ``tfless.methods.METHODS``.

Every method reads ``{"labeled": {"image", "label"}, "unlabeled": {...}}`` batches
(see :mod:`tfless.methods.semi.common`).
"""

from tfless.methods.semi.common import SemiMethod, check_semi_batch, validate_threshold
from tfless.methods.semi.fixmatch import FixMatch
from tfless.methods.semi.label_propagation import LabelPropagation
from tfless.methods.semi.label_propagation_callback import LabelPropagationCallback
from tfless.methods.semi.mean_teacher import MeanTeacher
from tfless.methods.semi.mixmatch import MixMatch
from tfless.methods.semi.pseudo_label import PseudoLabel
from tfless.methods.semi.remixmatch import ReMixMatch
from tfless.methods.semi.vat import VAT

SEMI_METHODS: dict = {
    "pseudo_label": PseudoLabel,
    "mean_teacher": MeanTeacher,
    "vat": VAT,
    "mixmatch": MixMatch,
    "remixmatch": ReMixMatch,
    "fixmatch": FixMatch,
    "label_propagation": LabelPropagation,
}

__all__ = [
    "SEMI_METHODS",
    "VAT",
    "FixMatch",
    "LabelPropagation",
    "LabelPropagationCallback",
    "MeanTeacher",
    "MixMatch",
    "PseudoLabel",
    "ReMixMatch",
    "SemiMethod",
    "check_semi_batch",
    "validate_threshold",
]
