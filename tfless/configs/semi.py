"""Schema of the semi-supervised configs (``configs/<method>/<dataset>.py``).

A semi-supervised config builds :func:`semi_config` (the digits recipe), switches to a
benchmark's recipe with :func:`wrn_recipe` (CIFAR-10/100, SVHN) or :func:`stl10_recipe`, sets
whatever its paper changes, and shrinks with :func:`smoke` under ``:smoke``. Args are parsed
by :func:`tfless.configs.common.parse_labels_arg`: ``labels=N`` (labels per class, e.g.
4 / 25 / 400 for CIFAR-10's 40 / 250 / 4000), ``smoke``, or both (``labels=25,smoke``).
"""

from __future__ import annotations

import ml_collections

from tfless.configs import common, supervised


def semi_config(
    method: str,
    kwargs: dict,
    *,
    labels: int,
    mu: int,
    unlabeled_views: str,
    views_kwargs: dict | None = None,
    with_index: bool = False,
) -> ml_collections.ConfigDict:
    """An unlocked semi-supervised config with the digits recipe.

    The supervised digits baseline's network, optimizer and EMA (convnet 32-64-128 on 16x16
    digits, Adam 2e-3 with cosine decay after 100 warmup steps, EMA 0.99) and 3,000 steps,
    so that the semi-supervised benchmark compares like with like; labeled batch 32 with
    pad-and-crop and no flips (digits are not flip-invariant).

    Args:
      method: a ``METHODS`` key; kwargs: its constructor kwargs.
      labels: labels per class; mu: unlabeled images per labeled image in a batch.
      unlabeled_views: the ``VIEWS`` name of the unlabeled stream; views_kwargs: its kwargs.
      with_index: add each example's index to the batch (label propagation's graph).
    """
    c = common.digits_base()
    common.set_method(c, method, kwargs)
    c.data.pipeline = "semi"
    c.data.batch_size = 32
    c.data.labels_per_class = labels
    c.data.mu = mu
    common.set_augment(c, "flip_crop", {"flip": False})
    c.data.unlabeled_views = unlabeled_views
    c.data.views_kwargs = ml_collections.ConfigDict({"flip": False, **(views_kwargs or {})})
    c.data.with_index = with_index
    c.train.steps = 3000
    return c


def wrn_recipe(
    c: ml_collections.ConfigDict, dataset: str, backbone: str = "wrn28_2", flip: bool = True
) -> None:
    """Switches ``c`` to the FixMatch protocol on ``dataset`` (see ``supervised.wrn_recipe``).

    ``flip``: horizontal flips in the labeled and unlabeled views (CIFAR, STL-10; not SVHN).
    """
    supervised.wrn_recipe(c, dataset, backbone)
    c.data.augment_kwargs.flip = flip
    c.data.views_kwargs.flip = flip


def stl10_recipe(c: ml_collections.ConfigDict) -> None:
    """Switches ``c`` to the FixMatch protocol on STL-10's 96x96 images.

    WRN-37-2 with its first group at stride 2 as in TorchSSL and USB
    (``model.kwargs.first_stride=1`` gives the official TF code's network at 4x the FLOPs);
    unlabeled data = the 5,000-image train split + the 100,000-image ``unlabelled`` split;
    a 10,000-image shuffle buffer per split (a 96x96 float image is 110 KB).
    """
    wrn_recipe(c, "stl10", "wrn37_2", flip=True)
    c.model.kwargs = ml_collections.ConfigDict({"first_stride": 2})
    c.data.shuffle_buffer = 10_000
    c.data.unlabeled_extra_splits = ("unlabelled",)


def smoke(c: ml_collections.ConfigDict) -> None:
    """Shrinks ``c`` to a 2-step run of a tiny convnet (TFDS datasets run on mock data)."""
    c.model.backbone = "convnet"
    c.model.kwargs = ml_collections.ConfigDict({"widths": (8, 16)})
    c.data.batch_size = 8 if c.data.dataset == "digits" else 4
    c.data.mu = min(c.data.mu, 2)
    c.data.labels_per_class = min(c.data.labels_per_class, 4)
    c.train.steps = 2
    c.train.eval_every = 1
    c.optimizer.warmup_steps = 0
