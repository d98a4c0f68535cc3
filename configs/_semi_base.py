"""Shared builder of the semi-supervised configs (``configs/<method>/<dataset>.py``).

Not a config itself (the leading underscore keeps it out of the config list). The
per-method files load it by path, as ml_collections loads configs by path.

``semi_config(dataset, method, kwargs, unlabeled_views, ...)`` returns an unlocked
ConfigDict with the lead's schema (see ``configs/supervised/digits.py``):

* ``digits``: convnet 32-64-128 on 16x16 digits, 4 labels per class, labeled batch 32,
  Adam 2e-3 with cosine decay, EMA 0.99, 3,000 steps: the same backbone, optimizer and
  step budget as the supervised digits baseline, so the benchmark compares like with
  like. No flips (digits are not flip-invariant).
* ``cifar10`` / ``cifar100`` / ``svhn_cropped``: WRN-28-2 (WRN-28-8 for CIFAR-100),
  labeled batch 64, SGD nesterov 0.9, lr 0.03 with FixMatch's cosine, EMA 0.999,
  2^20 steps (FixMatch/TorchSSL/USB protocol). Each config sets its weight decay (coupled
  in the method for SGD recipes, decoupled in the optimizer for Adam recipes) and any
  optimizer change its paper makes.
* ``stl10``: as above with WRN-37-2 (``wrn37_2``, first group at stride 2 as in TorchSSL/USB;
  ``model.kwargs.first_stride=1`` gives the official TF runs' network, 4x the FLOPs) on the
  native 96x96 images with flips, the 5,000-image train split plus the 100,000-image
  ``unlabelled`` split as unlabeled data (``data.unlabeled_extra_splits``), and a 10,000-image
  shuffle buffer per split (a 96x96 float image is 110 KB; 50,000 of them would take 5.5 GB).

``arg``: ``smoke`` (a few steps on tiny models; TFDS datasets run on mock data in the
tests), ``labels=N`` (labels per class, e.g. 4/25/400 for CIFAR-10's 40/250/4000),
combinations like ``labels=25,smoke``.
"""

import ml_collections


def parse_arg(arg, default_labels):
    """``'labels=25,smoke'`` -> ``(25, True)``; raises ValueError naming the bad part."""
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


def semi_config(
    dataset,
    method,
    kwargs,
    unlabeled_views,
    views_kwargs=None,
    mu=7,
    arg=None,
    default_labels=4,
    with_index=False,
):
    labels, smoke = parse_arg(arg, default_labels)
    digits = dataset == "digits"
    stl10 = dataset == "stl10"
    flip = dataset in ("cifar10", "cifar100", "stl10")
    c = ml_collections.ConfigDict()
    c.method = ml_collections.ConfigDict()
    c.method.name = method
    c.method.kwargs = ml_collections.ConfigDict(dict(kwargs))

    c.model = ml_collections.ConfigDict()
    c.model.backbone = "convnet" if digits else ("wrn28_8" if dataset == "cifar100" else "wrn28_2")
    c.model.kwargs = ml_collections.ConfigDict({"widths": (32, 64, 128)} if digits else {})
    if stl10:
        c.model.backbone = "wrn37_2"
        c.model.kwargs = ml_collections.ConfigDict({"first_stride": 2})

    c.data = ml_collections.ConfigDict()
    c.data.dataset = dataset
    c.data.pipeline = "semi"
    c.data.image_size = 16 if digits else None
    c.data.channels = 1 if digits else 3
    c.data.batch_size = 32 if digits else 64
    c.data.eval_batch_size = 540 if digits else 500
    c.data.labels_per_class = labels
    c.data.split_seed = 0
    c.data.mu = mu
    c.data.augment = "flip_crop"
    c.data.augment_kwargs = ml_collections.ConfigDict({"flip": flip})
    c.data.unlabeled_views = unlabeled_views
    vk = {"flip": flip}
    vk.update(views_kwargs or {})
    c.data.views_kwargs = ml_collections.ConfigDict(vk)
    c.data.with_index = with_index
    c.data.shuffle_buffer = 2048 if digits else (10_000 if stl10 else 50_000)
    if stl10:
        # FixMatch/MixMatch/ReMixMatch: unlabeled data = train (5,000) + unlabelled (100,000).
        c.data.unlabeled_extra_splits = ("unlabelled",)
    c.data.data_dir = ml_collections.config_dict.placeholder(str)

    c.optimizer = ml_collections.ConfigDict()
    if digits:
        c.optimizer.name = "adam"
        c.optimizer.learning_rate = 2e-3
        c.optimizer.schedule = "cosine"
        c.optimizer.warmup_steps = 100
        c.optimizer.ema = 0.99
    else:
        c.optimizer.name = "sgd"
        c.optimizer.learning_rate = 0.03
        c.optimizer.schedule = "fixmatch_cosine"
        c.optimizer.warmup_steps = 0
        c.optimizer.ema = 0.999
    c.optimizer.momentum = 0.9
    c.optimizer.nesterov = not digits
    c.optimizer.weight_decay = 0.0
    c.optimizer.clipnorm = ml_collections.config_dict.placeholder(float)

    c.train = ml_collections.ConfigDict()
    c.train.steps = 3000 if digits else 2**20
    c.train.eval_every = 500 if digits else 2**14
    c.train.seed = 0
    c.train.strategy = "none"
    c.train.jit_compile = False
    c.train.verbose = 1
    c.train.tensorboard = True
    c.train.keep_checkpoints = 2

    if smoke:
        c.model.backbone = "convnet"
        c.model.kwargs = ml_collections.ConfigDict({"widths": (8, 16)})
        c.data.batch_size = 8 if digits else 4
        c.data.mu = min(mu, 2)
        c.data.labels_per_class = min(labels or 4, 4)
        c.train.steps = 2
        c.train.eval_every = 1
        c.optimizer.warmup_steps = 0
    return c, smoke
