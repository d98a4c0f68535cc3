"""tfless: learning with less supervision in TensorFlow/Keras.

The curated public API, the names a first program needs::

    import tfless

    config = tfless.load_config("configs/supervised/digits.py")
    result = tfless.train_and_evaluate(config, "/tmp/run")       # the config path
    method = tfless.METHODS["simclr"](my_encoder)                 # the Python path
    tfless.evaluate_encoder(method.encoder, train, test)

Everything else lives in the subpackages (``tfless.data``, ``tfless.augment``,
``tfless.backbones``, ``tfless.losses``, ``tfless.methods``, ``tfless.train``,
``tfless.evaluation``, ``tfless.export``). Every method class is importable from
``tfless.methods`` (``from tfless.methods import FixMatch, SimCLR, MoCo``).
"""

__version__ = "0.1.0"

import importlib

__all__ = [
    "BACKBONES",
    "METHODS",
    "Method",
    "__version__",
    "build_backbone",
    "evaluate_encoder",
    "export_encoder",
    "get_info",
    "load",
    "load_config",
    "train_and_evaluate",
]

# Loaded on first use, so that ``import tfless.cli...`` can set TensorFlow's
# environment (log level) and answer ``--help`` before TensorFlow loads.
_PUBLIC = {
    "BACKBONES": "tfless.backbones",
    "build_backbone": "tfless.backbones",
    "get_info": "tfless.data",
    "load": "tfless.data",
    "METHODS": "tfless.methods",
    "Method": "tfless.methods",
    "load_config": "tfless.configs",
    "train_and_evaluate": "tfless.train",
    "evaluate_encoder": "tfless.evaluation",
    "export_encoder": "tfless.export",
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
