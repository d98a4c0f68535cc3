"""BiT transfer: fine-tuning a pre-trained trunk with the BiT-HyperRule.

"Big Transfer (BiT): General Visual Representation Learning" (Kolesnikov et al. 2020,
arXiv:1912.11370); the rule itself is :mod:`tfless.train.hyperrule`.
"""

from __future__ import annotations

import ml_collections

from tfless.configs import common


def bit_config(dataset: str, shots: int | None, *, batch_size: int) -> ml_collections.ConfigDict:
    """The ``bit`` method on ``dataset`` with ``shots`` labeled images per class (None:
    the whole training split) at ``batch_size``, test accuracy after the fixed schedule
    (no validation hold-out), unlocked; the optimizer is :func:`set_hyperrule`'s."""
    c = common.digits_base()
    c.method.name = "bit"
    c.method.kwargs = ml_collections.ConfigDict({"mixup_alpha": 0.0, "zero_init_head": True})
    c.data.dataset = dataset
    c.data.labels_per_class = shots
    c.data.val_size = 0
    c.data.batch_size = batch_size
    return c


def set_hyperrule(
    c: ml_collections.ConfigDict, schedule, mixup_alpha: float, learning_rate: float
) -> None:
    """BiT-HyperRule's optimizer on ``c``, for the rule's values at the training-set size
    (:mod:`tfless.train.hyperrule`: ``hyperrule_schedule(n)``, ``hyperrule_mixup(n)``, and
    ``BASE_LR`` at ``BATCH_SIZE``, scaled to the config's batch).

    SGD with momentum 0.9, no weight decay, no EMA, ``learning_rate``; ``train.steps`` and
    the trainer's ``step`` schedule from ``schedule`` = (warm-up end, decay points..., end):
    linear warm-up, then x0.1 at each decay point; MixUp ``mixup_alpha``
    (``method.kwargs.mixup_alpha``).

    The trainer's warm-up reaches the base rate one step earlier than the official code
    (``lr (t + 1) / w`` against ``lr t / w``) and each decay applies from its point on
    rather than after it: the two schedules differ at single steps only (tested).
    """
    warmup, *decays, end = (int(p) for p in schedule)
    c.optimizer.name = "sgd"
    c.optimizer.learning_rate = float(learning_rate)
    c.optimizer.momentum = 0.9
    c.optimizer.nesterov = False
    c.optimizer.weight_decay = 0.0
    c.optimizer.ema = 0.0
    c.optimizer.schedule = "step"
    c.optimizer.warmup_steps = warmup
    c.optimizer.boundaries = tuple((d - warmup) / (end - warmup) for d in decays)
    c.optimizer.factor = 0.1
    c.train.steps = end
    c.train.eval_every = end
    c.method.kwargs.mixup_alpha = float(mixup_alpha)


def bit_smoke(c: ml_collections.ConfigDict) -> None:
    """Seconds instead of hours: the tiny GroupNorm ResNet at 16x16, 6 steps, batch 16."""
    c.model.backbone = "bit_tiny"
    c.model.kwargs = ml_collections.ConfigDict()
    c.data.image_size = 16
    c.data.batch_size = 16
    c.train.steps = 6
    c.train.eval_every = 3
    c.optimizer.warmup_steps = 2
    c.optimizer.boundaries = (0.25, 0.5, 0.75)
