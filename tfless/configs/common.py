"""Helpers every config shares: arg parsing, the supervised digits schema, smoke sizes.

Every config returns the same schema (``method``, ``model``, ``data``, ``optimizer``,
``train``; the pretext configs add ``eval``). :func:`digits_base` builds it with the values of
the supervised digits baseline; the family builders (:mod:`tfless.configs.semi`,
:mod:`~tfless.configs.contrastive`, :mod:`~tfless.configs.pretext`,
:mod:`~tfless.configs.augment`) start from it and change what their family changes.
"""

from __future__ import annotations

import ml_collections

#: Pad-and-crop by 1/8 without flips (a flipped digit is another digit).
DIGITS_CROP = {"flip": False, "pad_fraction": 0.125}
#: Pad-and-crop by 1/8 with horizontal flips, the usual CIFAR augmentation.
CIFAR_CROP = {"flip": True, "pad_fraction": 0.125}


def check_arg(arg: str | None, *allowed: str) -> str:
    """``arg`` as a string ('' for None) if it is one of ``allowed``; else ValueError naming it."""
    arg = arg or ""
    if arg not in allowed:
        expected = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"Unknown config arg {arg!r}. Expected one of {expected}.")
    return arg


def parse_smoke_arg(arg: str | None) -> bool:
    """True for ``'smoke'``, False for ``''`` / None; ValueError for anything else."""
    return check_arg(arg, "", "smoke") == "smoke"


def parse_setting_arg(arg: str | None, settings, default: str) -> tuple[str, bool]:
    """``'5shot,smoke'`` -> ``('5shot', True)``: at most one of ``settings`` (``default``
    when none is given) and optionally ``smoke``; ValueError naming the arg otherwise."""
    parts = [p for p in (arg or "").split(",") if p]
    smoke = "smoke" in parts
    rest = [p for p in parts if p != "smoke"]
    if len(rest) > 1 or (rest and rest[0] not in settings):
        raise ValueError(
            f"Unknown config arg {arg!r}. Expected one of {list(settings)}, optionally "
            "followed by ',smoke'."
        )
    return (rest[0] if rest else default), smoke


def parse_labels_arg(arg: str | None, default_labels: int | None) -> tuple[int | None, bool]:
    """``'labels=25,smoke'`` -> ``(25, True)``; ValueError naming the bad part.

    Args:
      arg: comma-separated parts, each ``smoke`` or ``labels=N`` (labels per class, N >= 1).
      default_labels: labels per class when ``arg`` has no ``labels=N``.
    """
    labels, smoke = default_labels, False
    for part in filter(None, (arg or "").split(",")):
        if part == "smoke":
            smoke = True
        elif part.startswith("labels="):
            try:
                labels = int(part.split("=", 1)[1])
            except ValueError:
                labels = -1
            if labels < 1:
                raise ValueError(f"Config arg {part!r}: expected labels=N with N >= 1 per class.")
        else:
            raise ValueError(f"Unknown config arg {part!r}. Expected 'smoke' and/or 'labels=N'.")
    return labels, smoke


def digits_base() -> ml_collections.ConfigDict:
    """The supervised digits baseline, unlocked: the schema every config starts from.

    ConvNet 32-64-128 on the built-in digits at 16x16, all labels, a tenth of the training
    split held out for validation, batch 64, no augmentation, Adam 2e-3 with cosine decay
    after 100 warmup steps, EMA 0.99 of the weights for evaluation, 2,000 steps with an
    evaluation every 500.
    """
    c = ml_collections.ConfigDict()

    c.method = ml_collections.ConfigDict()
    c.method.name = "supervised"
    c.method.kwargs = ml_collections.ConfigDict({"label_smoothing": 0.0, "weight_decay": 0.0})

    c.model = ml_collections.ConfigDict()
    c.model.backbone = "convnet"
    c.model.kwargs = ml_collections.ConfigDict({"widths": (32, 64, 128)})
    # Pre-trained encoder weights for a fresh run: a BiT .npz file or a tfless run
    # directory (tfless.train.init_weights).
    c.model.init = ml_collections.config_dict.placeholder(str)

    c.data = ml_collections.ConfigDict()
    c.data.dataset = "digits"
    c.data.pipeline = "supervised"
    c.data.image_size = 16
    c.data.channels = 1
    c.data.batch_size = 64
    c.data.eval_batch_size = 540
    c.data.labels_per_class = ml_collections.config_dict.placeholder(int)
    c.data.split_seed = 0
    # Validation for per-epoch evaluation and model selection: the dataset's own split,
    # else a stratified tenth of the training split (tfless.data.splits.DEFAULT_VAL_SIZE,
    # where the choice is explained); a count also works, 0 means no validation.
    c.data.val_size = 0.1
    c.data.mu = 0
    c.data.augment = "identity"
    c.data.augment_kwargs = ml_collections.ConfigDict()
    c.data.unlabeled_views = ""
    c.data.views_kwargs = ml_collections.ConfigDict()
    c.data.with_index = False
    c.data.shuffle_buffer = 2048
    c.data.data_dir = ml_collections.config_dict.placeholder(str)
    # A second folder of unlabeled images for a `folder:` dataset (its `unlabeled` split).
    c.data.unlabeled_dir = ml_collections.config_dict.placeholder(str)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "adam"
    c.optimizer.learning_rate = 2e-3
    c.optimizer.schedule = "cosine"
    c.optimizer.warmup_steps = 100
    c.optimizer.momentum = 0.9
    c.optimizer.nesterov = False
    c.optimizer.weight_decay = 0.0
    c.optimizer.ema = 0.99
    c.optimizer.clipnorm = ml_collections.config_dict.placeholder(float)

    c.train = ml_collections.ConfigDict()
    c.train.steps = 2000
    c.train.eval_every = 500
    c.train.seed = 0
    c.train.strategy = "none"
    c.train.jit_compile = False
    # float32 | mixed_bfloat16 | mixed_float16: the backbone's compute dtype
    # (tfless.train.precision says what stays float32).
    c.train.precision = "float32"
    # Training steps fused into one call (must divide eval_every and log_every).
    c.train.steps_per_execution = 1
    c.train.verbose = 1
    c.train.tensorboard = True
    # Steps between TensorBoard scalar points (loss, learning rate, method metrics).
    c.train.log_every = 10
    c.train.keep_checkpoints = 2

    c.eval = ml_collections.ConfigDict()
    # Batch-norm statistics measured again on training images before the final evaluation:
    # "auto" when the run is short for the layers' momentum (tfless.train.final_bn).
    c.eval.recompute_bn = "auto"
    return c


def set_method(c: ml_collections.ConfigDict, name: str, kwargs: dict) -> None:
    """Names the method (a ``METHODS`` key) and its constructor kwargs."""
    c.method.name = name
    c.method.kwargs = ml_collections.ConfigDict(dict(kwargs))


def set_augment(c: ml_collections.ConfigDict, augment: str, kwargs: dict | None = None) -> None:
    """Sets the view of the (labeled) training images: a ``VIEWS`` name and its kwargs."""
    c.data.augment = augment
    c.data.augment_kwargs = ml_collections.ConfigDict(dict(kwargs or {}))


def digits_smoke(c: ml_collections.ConfigDict, steps: int = 10, batch_size: int | None = None):
    """Shrinks a digits run to seconds: ``steps`` steps, evaluation halfway, 2 warmup steps."""
    c.train.steps = steps
    c.train.eval_every = steps // 2
    c.optimizer.warmup_steps = 2
    if batch_size is not None:
        c.data.batch_size = batch_size


def tiny_convnet_smoke(
    c: ml_collections.ConfigDict, batch_size: int = 16, widths: tuple = (8, 16)
) -> None:
    """Shrinks a large-network run to seconds: a tiny ConvNet, 4 steps, at most 1 warmup step."""
    c.model.backbone = "convnet"
    c.model.kwargs = ml_collections.ConfigDict({"widths": tuple(widths)})
    c.data.batch_size = batch_size
    c.train.steps = 4
    c.train.eval_every = 2
    c.optimizer.warmup_steps = min(c.optimizer.warmup_steps, 1)


def locked(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """``c``, locked: overrides may change values but not add fields."""
    c.lock()
    return c
