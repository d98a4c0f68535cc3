"""Pretext-task methods; ``PRETEXT_METHODS`` is merged into ``tfless.methods.METHODS``.

Each method reads ``{"image"}`` only and builds its pretext inputs in-graph.
"""

from tfless.methods.pretext.autoencoder import Autoencoder
from tfless.methods.pretext.colorization import Colorization
from tfless.methods.pretext.context import ContextPrediction
from tfless.methods.pretext.jigsaw import Jigsaw
from tfless.methods.pretext.rotation import Rotation

PRETEXT_METHODS: dict = {
    "rotation": Rotation,
    "jigsaw": Jigsaw,
    "context_prediction": ContextPrediction,
    "colorization": Colorization,
    "autoencoder": Autoencoder,
}

__all__ = [
    "PRETEXT_METHODS",
    "Autoencoder",
    "Colorization",
    "ContextPrediction",
    "Jigsaw",
    "Rotation",
]
