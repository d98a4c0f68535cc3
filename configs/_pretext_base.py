"""Shared schema of the pretext-task digits configs (loaded by path, like ``_semi_base.py``).

The recipe every pretext config shares: the supervised digits baseline
(``configs/supervised/digits.py``: ConvNet 32-64-128, Adam 2e-3 with cosine decay and 100
warmup steps, batch 64, 2,000 steps) on digits resized to 24x24, no labels read for
training (``data.pipeline="unlabeled"``), no weight EMA, an online linear probe every
``eval_every`` steps. Each config names its method, its paper's hyperparameters and how
``:smoke`` shrinks them.
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


#: Pad-and-crop of digits (no flips: digits are not mirror-symmetric).
DIGITS_CROP = {"flip": False, "pad_fraction": 0.125}


def pretext_config(
    method: str,
    kwargs: dict,
    arg: str | None = None,
    smoke_kwargs: dict | None = None,
    *,
    augment: str = "identity",
    augment_kwargs: dict | None = None,
    optimizer: dict | None = None,
) -> ml_collections.ConfigDict:
    """The shared digits schema of the pretext tasks, locked; ``smoke_kwargs`` shrink the method.

    ``augment`` / ``augment_kwargs`` set the input augmentation (default none: the
    pretext task builds its own inputs in-graph); ``optimizer`` overrides keys of the
    supervised baseline's optimizer (a paper's own recipe).
    """
    arg = arg or ""
    if arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '' or 'smoke'.")
    c = _supervised.get_config()
    with c.unlocked():
        c.method.name = method
        c.method.kwargs = ml_collections.ConfigDict(dict(kwargs))
        # No labels read for training, larger images, no weight EMA.
        c.data.pipeline = "unlabeled"
        c.data.image_size = 24
        c.data.augment = augment
        c.data.augment_kwargs = ml_collections.ConfigDict(dict(augment_kwargs or {}))
        c.optimizer.ema = 0.0
        for key, value in (optimizer or {}).items():
            c.optimizer[key] = value

        # Online linear probe every `eval_every` steps on 1,000 labeled training images
        # (labels are read by the probe only); logged as `probe_accuracy`.
        c.eval = ml_collections.ConfigDict()
        c.eval.online_probe_every = 1
        c.eval.online_probe_examples = 1000

        if arg == "smoke":
            c.train.steps = 10
            c.train.eval_every = 5
            c.optimizer.warmup_steps = 2
            c.data.batch_size = 16
            c.method.kwargs.update(smoke_kwargs or {})
    c.lock()
    return c
