"""tfless: learning with less supervision in TensorFlow/Keras.

The curated public API; everything else lives in the subpackages
(``tfless.data``, ``tfless.augment``, ``tfless.backbones``, ``tfless.losses``,
``tfless.methods``, ``tfless.train``, ``tfless.evaluation``).
"""

__version__ = "0.1.0"

import importlib

__all__ = ["BACKBONES", "METHODS", "__version__", "build_backbone", "load"]

# Loaded on first use, so that ``import tfless.cli...`` can set TensorFlow's
# environment (log level) and answer ``--help`` before TensorFlow loads.
_PUBLIC = {
    "BACKBONES": "tfless.backbones",
    "build_backbone": "tfless.backbones",
    "load": "tfless.data",
    "METHODS": "tfless.methods",
}


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
