"""Shared schema of the learned-augmentation digits configs (loaded by path).

The supervised digits baseline (``configs/supervised/digits.py``) with 10 labels per
class, labeled batch 50, 1,000 steps (250 between evaluations, 50 warmup steps); each config
names its method (``supervised`` when the augmentation lives in the data pipeline), its
kwargs, the labeled-data augmentation, and how ``:smoke`` shrinks the method.
"""

import importlib.util
import os

import ml_collections

_spec = importlib.util.spec_from_file_location(
    "_supervised_digits",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "supervised", "digits.py"),
)
_supervised = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_supervised)


def augment_digits_config(
    method: str,
    kwargs: dict,
    arg: str | None = None,
    augment: str = "flip_crop",
    augment_kwargs: dict | None = None,
    smoke_kwargs: dict | None = None,
) -> ml_collections.ConfigDict:
    """The locked config of one learned-augmentation run on digits."""
    arg = arg or ""
    if arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '' or 'smoke'.")
    smoke = arg == "smoke"
    c = _supervised.get_config(arg)
    with c.unlocked():
        c.method.name = method
        c.method.kwargs = ml_collections.ConfigDict(dict(kwargs))
        c.data.labels_per_class = 10
        c.data.batch_size = 50
        c.data.augment = augment
        c.data.augment_kwargs = ml_collections.ConfigDict(dict(augment_kwargs or {}))
        c.train.steps = 10 if smoke else 1000
        c.train.eval_every = 5 if smoke else 250
        if not smoke:
            c.optimizer.warmup_steps = 50
        else:
            c.method.kwargs.update(smoke_kwargs or {})
    c.lock()
    return c
