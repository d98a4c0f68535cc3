"""Schema of the learned-augmentation configs on digits (AutoAugment search, Adversarial
AutoAugment, uncertainty-based sampling).

The supervised digits baseline (:func:`tfless.configs.common.digits_base`) with 10 labels
per class, labeled batch 50, 1,000 steps with an evaluation every 250 and 50 warmup steps.
The method is ``supervised`` when the augmentation lives in the data pipeline.
"""

from __future__ import annotations

import ml_collections

from tfless.configs import common


def augment_config(
    method: str, kwargs: dict, *, augment: str, augment_kwargs: dict | None = None
) -> ml_collections.ConfigDict:
    """An unlocked learned-augmentation config on 10 labeled digits per class.

    Args:
      method: a ``METHODS`` key; kwargs: its constructor kwargs.
      augment: the ``VIEWS`` name of the labeled images' view; augment_kwargs: its kwargs.
    """
    c = common.digits_base()
    common.set_method(c, method, kwargs)
    c.data.labels_per_class = 10
    c.data.batch_size = 50
    common.set_augment(c, augment, augment_kwargs)
    c.train.steps = 1000
    c.train.eval_every = 250
    c.optimizer.warmup_steps = 50
    return c
