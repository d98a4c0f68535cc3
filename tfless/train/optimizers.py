"""Optimizers and learning-rate schedules by name."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

OPTIMIZERS = ("sgd", "adam", "adamw", "lamb", "lars")
SCHEDULES = ("constant", "cosine", "fixmatch_cosine", "step")

# Batch norm parameters and biases are excluded from decoupled weight decay, as in
# the SimCLR/MoCo/BiT recipes.
_NO_DECAY = ["bias", "gamma", "beta"]


@keras.saving.register_keras_serializable(package="tfless")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from 0 to ``base_lr`` over ``warmup_steps``, then a decay.

    Decays (``step`` counts from the end of warmup, ``total`` = total - warmup):
      * ``constant``: ``base_lr``.
      * ``cosine``: ``base_lr * 0.5 * (1 + cos(pi * step / total))`` (Loshchilov & Hutter 2017).
      * ``fixmatch_cosine``: ``base_lr * cos(7 * pi * step / (16 * total))`` (Sohn et al. 2020).
      * ``step``: ``base_lr * factor ** i`` after the i-th boundary; boundaries are
        fractions of training (BiT: 0.3/0.6/0.9, factor 0.1).
    """

    def __init__(
        self,
        base_lr: float,
        total_steps: int,
        schedule: str = "cosine",
        warmup_steps: int = 0,
        boundaries=(0.5, 0.75),
        factor: float = 0.1,
    ):
        if schedule not in SCHEDULES:
            raise ValueError(f"Unknown schedule {schedule!r}. Expected one of {list(SCHEDULES)}.")
        if total_steps < 1:
            raise ValueError(f"total_steps must be >= 1; got {total_steps!r}.")
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(
                f"warmup_steps must be in [0, total_steps={total_steps}); got {warmup_steps!r}."
            )
        if not (isinstance(base_lr, (int, float)) and math.isfinite(base_lr) and base_lr > 0):
            raise ValueError(
                f"optimizer.learning_rate must be a finite number > 0; got {base_lr!r}."
            )
        self.base_lr = float(base_lr)
        self.total_steps = int(total_steps)
        self.schedule = schedule
        self.warmup_steps = int(warmup_steps)
        self.boundaries = tuple(float(b) for b in boundaries)
        self.factor = float(factor)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warm = float(self.warmup_steps)
        decay_total = float(self.total_steps - self.warmup_steps)
        t = tf.clip_by_value((step - warm) / decay_total, 0.0, 1.0)
        if self.schedule == "constant":
            lr = tf.constant(self.base_lr)
        elif self.schedule == "cosine":
            lr = self.base_lr * 0.5 * (1.0 + tf.cos(math.pi * t))
        elif self.schedule == "fixmatch_cosine":
            lr = self.base_lr * tf.cos(7.0 * math.pi * t / 16.0)
        else:
            passed = tf.add_n([tf.cast(t >= b, tf.float32) for b in self.boundaries])
            lr = self.base_lr * tf.pow(self.factor, passed)
        if self.warmup_steps:
            lr = tf.where(step < warm, self.base_lr * (step + 1.0) / warm, lr)
        return lr

    def get_config(self):
        return dict(
            base_lr=self.base_lr,
            total_steps=self.total_steps,
            schedule=self.schedule,
            warmup_steps=self.warmup_steps,
            boundaries=self.boundaries,
            factor=self.factor,
        )


def make_optimizer(cfg, total_steps: int) -> keras.optimizers.Optimizer:
    """Builds the optimizer described by ``cfg`` (a ConfigDict or mapping).

    Keys: ``name`` (sgd, adam, adamw, lamb, lars), ``learning_rate``, ``schedule``,
    ``warmup_steps``, ``momentum``, ``nesterov``, ``weight_decay`` (decoupled, scaled by
    the learning rate; biases and BN excluded), ``ema`` (EMA decay of the weights used for
    evaluation, 0 = off), ``clipnorm``, ``boundaries``, ``factor``.
    """
    get = cfg.get if hasattr(cfg, "get") else lambda k, d=None: getattr(cfg, k, d)
    name = get("name", "sgd")
    if name not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {name!r}. Expected one of {list(OPTIMIZERS)}.")
    lr = WarmupSchedule(
        get("learning_rate", 0.1),
        total_steps,
        get("schedule", "cosine"),
        get("warmup_steps", 0),
        tuple(get("boundaries", (0.5, 0.75))),
        get("factor", 0.1),
    )
    ema = float(get("ema", 0.0) or 0.0)
    if not 0.0 <= ema < 1.0:
        raise ValueError(f"optimizer.ema must be in [0, 1); got {ema!r}.")
    wd = float(get("weight_decay", 0.0) or 0.0)
    common = dict(
        learning_rate=lr,
        weight_decay=wd or None,
        use_ema=ema > 0,
        ema_momentum=ema if ema > 0 else 0.99,
        clipnorm=get("clipnorm", None),
    )
    momentum = float(get("momentum", 0.9))
    if name == "sgd":
        opt = keras.optimizers.SGD(
            momentum=momentum, nesterov=bool(get("nesterov", False)), **common
        )
    elif name == "adam":
        opt = keras.optimizers.Adam(**common)
    elif name == "adamw":
        common["weight_decay"] = wd
        opt = keras.optimizers.AdamW(**common)
    elif name == "lamb":
        opt = keras.optimizers.Lamb(**common)
    else:
        from tfless.train.lars import LARS

        opt = LARS(momentum=momentum, **common)
    if wd:
        opt.exclude_from_weight_decay(var_names=_NO_DECAY)
    return opt
