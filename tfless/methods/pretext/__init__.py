"""Pretext-task methods; ``PRETEXT_METHODS`` is merged into ``tfless.methods.METHODS``.

Each method reads ``{"image"}`` only and builds its pretext inputs in-graph.
"""

from tfless.methods.pretext.context import ContextPrediction
from tfless.methods.pretext.jigsaw import Jigsaw
from tfless.methods.pretext.rotation import Rotation

PRETEXT_METHODS: dict = {
    "rotation": Rotation,
    "jigsaw": Jigsaw,
    "context_prediction": ContextPrediction,
}

__all__ = ["PRETEXT_METHODS", "ContextPrediction", "Jigsaw", "Rotation"]
