"""Schema of the contrastive and clustering configs (SimCLR, MoCo, PIRL, CPC, AMDIM,
DeepCluster).

No labels are read for training (``data.pipeline="unlabeled"``); the encoder is evaluated
afterwards by ``tfless-eval`` (linear probe / kNN). A config builds :func:`contrastive_config`
(the digits recipe), switches to CIFAR-10 with :func:`cifar10_recipe` and its own optimizer,
and shrinks with ``common.digits_smoke`` / ``common.tiny_convnet_smoke`` under ``:smoke``.
"""

from __future__ import annotations

import ml_collections

from tfless.configs import common

#: SimCLR views scaled to 16x16 digits: random resized crop at scale 0.3-1 and colour jitter
#: of strength 0.5, no flip (a flipped digit is another digit) and no grayscale.
DIGITS_SIMCLR_VIEWS = {
    "size": None,
    "crop_scale": (0.3, 1.0),
    "flip": False,
    "strength": 0.5,
    "grayscale_p": 0.0,
}


def contrastive_config(
    method: str,
    kwargs: dict,
    *,
    augment: str,
    batch_size: int,
    steps: int,
    eval_every: int,
    augment_kwargs: dict | None = None,
    image_size: int = 16,
    with_index: bool = False,
) -> ml_collections.ConfigDict:
    """An unlocked self-supervised config with the digits recipe.

    The supervised digits baseline's ConvNet 32-64-128 and optimizer (Adam 2e-3, cosine decay
    after 100 warmup steps, no weight decay) without weight EMA, on unlabeled digits at
    ``image_size``.

    Args:
      method: a ``METHODS`` key; kwargs: its constructor kwargs.
      augment: the ``VIEWS`` name making each example's views; augment_kwargs: its kwargs.
      batch_size, steps, eval_every: the run's size.
      with_index: add each example's index to the batch (memory banks, cluster assignments).
    """
    c = common.digits_base()
    common.set_method(c, method, kwargs)
    c.data.pipeline = "unlabeled"
    c.data.image_size = image_size
    c.data.batch_size = batch_size
    common.set_augment(c, augment, augment_kwargs)
    c.data.with_index = with_index
    c.optimizer.ema = 0.0
    c.train.steps = steps
    c.train.eval_every = eval_every
    return c


def cifar10_recipe(c: ml_collections.ConfigDict) -> None:
    """Switches ``c`` to CIFAR-10: ResNet-18 (CIFAR stem) on 32x32 images, no warmup.

    The config then states its paper's optimizer (name and learning rate at least).
    """
    c.data.dataset = "cifar10"
    c.model.backbone = "resnet18"
    c.model.kwargs = ml_collections.ConfigDict()
    c.data.image_size = 32
    c.data.channels = 3
    c.data.eval_batch_size = 1000
    c.data.shuffle_buffer = 50_000
    c.optimizer.warmup_steps = 0
