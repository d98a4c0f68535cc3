"""Config builder of self-supervised label augmentation (SLA) and its baselines.

Lee, Hwang & Shin, "Self-supervised Label Augmentation via Input Transformations" (ICML 2020,
arXiv 1910.05872). The config arg selects the objective and its options, comma-separated:

* an objective: ``baseline`` (``supervised``), ``da``, ``mt``, ``sla`` (SLA+AG inference,
  the default), ``sla_si`` (SLA, single inference), ``sla_sd`` (SLA+SD);
* ``transforms=NAME``: the transformation set (default ``rotation``; see
  ``tfless.augment.label_transforms.TRANSFORM_SETS``, products as ``rotation*color_perm3``);
* ``imbalance=R``: train on a long-tailed subset with head / tail ratio ``R``
  (``tfless.data.splits.imbalanced_indices``);
* ``balanced``: class-balanced re-weighting of the loss (SLA-family objectives);
* ``smoke``: a run of seconds.
"""

from __future__ import annotations

import dataclasses

import ml_collections

from tfless.configs import common

#: objective -> (``METHODS`` name, extra method kwargs).
OBJECTIVES = {
    "baseline": ("supervised", {}),
    "da": ("sla_da", {}),
    "mt": ("sla_mt", {}),
    "sla": ("sla", {"inference": "aggregated"}),
    "sla_si": ("sla", {"inference": "single"}),
    "sla_sd": ("sla_sd", {"inference": "single", "temperature": 1.0}),
}


@dataclasses.dataclass
class SLAArg:
    """The parsed config arg."""

    objective: str = "sla"
    transforms: str = "rotation"
    imbalance: float | None = None
    balanced: bool = False
    smoke: bool = False


def _number(part: str) -> float:
    try:
        value = float(part.split("=", 1)[1])
    except ValueError:
        value = 0.0
    if not value >= 1:
        raise ValueError(f"Config arg {part!r}: expected imbalance=R with R >= 1.")
    return value


def parse_arg(arg: str | None, objective: str | None = None) -> SLAArg:
    """Parses ``"sla_sd,transforms=rotation,imbalance=100,balanced,smoke"``; ValueError
    naming the bad part and the accepted ones.

    ``objective``: the config file's fixed objective (``configs/sla_sd/...``); the arg may
    then not name another one.
    """
    out = SLAArg(objective=objective or "sla")
    for part in filter(None, (arg or "").split(",")):
        if part in OBJECTIVES and objective and part != objective:
            raise ValueError(
                f"Config arg {part!r}: this config trains {objective!r}; use "
                f"configs/sla/<dataset>.py:{part} for another objective."
            )
        if part in OBJECTIVES:
            out.objective = part
        elif part.startswith("transforms="):
            out.transforms = part.split("=", 1)[1]
        elif part.startswith("imbalance="):
            out.imbalance = _number(part)
        elif part in ("balanced", "smoke"):
            setattr(out, part, True)
        else:
            raise ValueError(
                f"Unknown config arg {part!r}. Expected an objective of {sorted(OBJECTIVES)}, "
                "'transforms=NAME', 'imbalance=R', 'balanced' and/or 'smoke'."
            )
    if out.balanced and out.objective == "baseline":
        raise ValueError(
            "Config arg 'balanced': class-balanced re-weighting is an option of the SLA-family "
            f"objectives {sorted(set(OBJECTIVES) - {'baseline'})}, not of 'baseline'."
        )
    return out


def sla_config(parsed: SLAArg, weight_decay: float = 0.0) -> ml_collections.ConfigDict:
    """The digits schema (:func:`common.digits_base`) with the objective of ``parsed``.

    Adds ``data.imbalance_ratio`` and the step schedule's ``optimizer.boundaries`` /
    ``optimizer.factor`` fields (unlocked; the caller sets the dataset and recipe).
    """
    c = common.digits_base()
    name, extra = OBJECTIVES[parsed.objective]
    kwargs = {"weight_decay": weight_decay}
    if name != "supervised":
        kwargs.update(extra, transforms=parsed.transforms, class_balanced=parsed.balanced)
    else:
        kwargs["label_smoothing"] = 0.0
    common.set_method(c, name, kwargs)
    c.data.imbalance_ratio = ml_collections.config_dict.placeholder(float)
    c.data.imbalance_ratio = parsed.imbalance
    c.optimizer.boundaries = (0.5, 0.75)
    c.optimizer.factor = 0.1
    return c


def cifar_recipe(c: ml_collections.ConfigDict, dataset: str) -> None:
    """The authors' CIFAR recipe (github.com/hankook/SLA README and train.py).

    ResNet-32 (``resnet32``), batch 128 original images (x M copies forwarded), 80,000
    iterations, SGD lr 0.1 momentum 0.9, weight decay 1e-4 (the method's coupled L2 on
    kernels; the authors decay every parameter), learning rate x0.1 at 40k and 60k,
    pad-crop + flip, a stratified 5,000-image validation hold-out (45k / 5k), no EMA.
    """
    c.data.dataset = dataset
    c.model.backbone = "resnet32"
    c.model.kwargs = ml_collections.ConfigDict()
    c.data.image_size = None
    c.data.channels = 3
    c.data.batch_size = 128
    c.data.eval_batch_size = 500
    c.data.val_size = 5000
    c.data.shuffle_buffer = 50_000
    common.set_augment(c, "flip_crop", common.CIFAR_CROP)
    c.method.kwargs.weight_decay = 1e-4
    c.optimizer.name = "sgd"
    c.optimizer.learning_rate = 0.1
    c.optimizer.momentum = 0.9
    c.optimizer.nesterov = False
    c.optimizer.schedule = "step"
    c.optimizer.boundaries = (0.5, 0.75)
    c.optimizer.factor = 0.1
    c.optimizer.warmup_steps = 0
    c.optimizer.ema = 0.0
    c.train.steps = 80_000
    c.train.eval_every = 2_000


def cifar_smoke(c: ml_collections.ConfigDict) -> None:
    """Shrinks a CIFAR run to seconds: tiny ConvNet, 4 steps, no validation, no augmentation."""
    common.tiny_convnet_smoke(c, batch_size=8)
    c.data.val_size = 0
    common.set_augment(c, "identity")
