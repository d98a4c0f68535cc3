"""tfless: learning with less supervision in TensorFlow/Keras.

The curated public API; everything else lives in the subpackages
(``tfless.data``, ``tfless.augment``, ``tfless.backbones``, ``tfless.losses``,
``tfless.methods``, ``tfless.train``, ``tfless.evaluation``).
"""

__version__ = "0.1.0"

from tfless.backbones import BACKBONES, build_backbone
from tfless.data import load
from tfless.methods import METHODS

__all__ = ["BACKBONES", "METHODS", "__version__", "build_backbone", "load"]
