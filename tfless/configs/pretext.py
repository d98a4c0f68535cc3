"""Schema of the pretext-task configs (rotation, jigsaw, context prediction, colorization,
denoising autoencoder) on the built-in digits.

The supervised digits baseline (:func:`tfless.configs.common.digits_base`: ConvNet 32-64-128,
Adam 2e-3 with cosine decay and 100 warmup steps, batch 64, 2,000 steps) on digits resized to
24x24, no labels read for training (``data.pipeline="unlabeled"``), no weight EMA, and an
online linear probe every evaluation.
"""

from __future__ import annotations

import ml_collections

from tfless.configs import common


def pretext_config(
    method: str,
    kwargs: dict,
    *,
    augment: str = "identity",
    augment_kwargs: dict | None = None,
) -> ml_collections.ConfigDict:
    """An unlocked pretext-task config on digits.

    Args:
      method: a ``METHODS`` key; kwargs: its constructor kwargs.
      augment: the view of whole images (default none: the pretext task builds its own
        inputs in-graph); augment_kwargs: its kwargs.
    """
    c = common.digits_base()
    common.set_method(c, method, kwargs)
    c.data.pipeline = "unlabeled"
    c.data.image_size = 24
    common.set_augment(c, augment, augment_kwargs)
    c.optimizer.ema = 0.0
    # Online linear probe every `eval_every` steps on 1,000 labeled training images (labels
    # are read by the probe only); logged as `probe_accuracy`.
    c.eval.online_probe_every = 1
    c.eval.online_probe_examples = 1000
    return c
