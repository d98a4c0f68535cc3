"""Shared schema of the contrastive and clustering configs (loaded by path, like ``_pretext_base``).

Not a config itself (the leading underscore keeps it out of the config list). SimCLR, MoCo,
PIRL, CPC, AMDIM and DeepCluster load it by path, as ml_collections loads configs by path.
No labels are read for training (``data.pipeline="unlabeled"``); the encoder is evaluated
afterwards by ``tfless-eval`` (linear probe / kNN).

* ``digits``: the supervised baseline's ConvNet (32-64-128) on 16x16 digits (``image_size``
  changes it), Adam 2e-3 with cosine decay and 100 warmup steps, no weight decay.
  ``:smoke``: 10 steps (evaluation every 5), 2 warmup steps, batch 16.
* ``cifar10``: ResNet-18 (CIFAR stem) on 32x32 images, cosine decay without warmup; each
  config states its optimizer (``name`` and ``learning_rate`` at least).
  ``:smoke``: a tiny ConvNet (8-16), 4 steps (evaluation every 2), at most 1 warmup step,
  batch 16.

View defaults per dataset: ``flip_crop`` pads by 1/8 and crops, flipping on CIFAR-10 only
(a flipped digit is another digit); ``simclr`` views on digits crop at scale 0.3-1 with
colour jitter 0.5 and no flip or grayscale; on CIFAR-10 each config gives its own
``augment_kwargs``. Each config names its method and kwargs, its batch size and step budget,
whatever else differs from this schema, and how ``:smoke`` shrinks the method.
"""

import ml_collections

_AUGMENT_KWARGS = {
    ("digits", "simclr"): {
        "size": None,
        "crop_scale": (0.3, 1.0),
        "flip": False,
        "strength": 0.5,
        "grayscale_p": 0.0,
    },
    ("digits", "flip_crop"): {"flip": False, "pad_fraction": 0.125},
    ("cifar10", "simclr"): {},
    ("cifar10", "flip_crop"): {"flip": True, "pad_fraction": 0.125},
}


def contrastive_config(
    dataset: str,
    method: str,
    kwargs: dict,
    arg: str | None = None,
    *,
    augment: str,
    batch_size: int,
    steps: int,
    eval_every: int,
    augment_kwargs: dict | None = None,
    image_size: int | None = None,
    with_index: bool = False,
    optimizer: dict | None = None,
    smoke_kwargs: dict | None = None,
    smoke_batch_size: int = 16,
    smoke_widths: tuple = (8, 16),
) -> ml_collections.ConfigDict:
    """The locked config of one contrastive / clustering run on ``digits`` or ``cifar10``.

    ``augment_kwargs`` update the dataset's defaults for ``augment``; ``optimizer`` overrides
    fields of ``c.optimizer``; ``smoke_kwargs`` update the method's kwargs under ``:smoke``
    (``smoke_batch_size`` and, on CIFAR-10, ``smoke_widths`` shrink the run).
    """
    arg = arg or ""
    if arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '' or 'smoke'.")
    if dataset not in ("digits", "cifar10"):
        raise ValueError(f"Unknown dataset {dataset!r}. Expected 'digits' or 'cifar10'.")
    digits = dataset == "digits"
    optimizer = dict(optimizer or {})
    if not digits and not {"name", "learning_rate"} <= optimizer.keys():
        raise ValueError("CIFAR-10 configs state their optimizer's name and learning_rate.")

    c = ml_collections.ConfigDict()

    c.method = ml_collections.ConfigDict()
    c.method.name = method
    c.method.kwargs = ml_collections.ConfigDict(dict(kwargs))

    c.model = ml_collections.ConfigDict()
    c.model.backbone = "convnet" if digits else "resnet18"
    c.model.kwargs = ml_collections.ConfigDict({"widths": (32, 64, 128)} if digits else {})

    views = dict(_AUGMENT_KWARGS[(dataset, augment)])
    views.update(augment_kwargs or {})
    c.data = ml_collections.ConfigDict()
    c.data.dataset = dataset
    c.data.pipeline = "unlabeled"
    c.data.image_size = image_size or (16 if digits else 32)
    c.data.channels = 1 if digits else 3
    c.data.batch_size = batch_size
    c.data.eval_batch_size = 540 if digits else 1000
    c.data.labels_per_class = ml_collections.config_dict.placeholder(int)
    c.data.split_seed = 0
    c.data.mu = 0
    c.data.augment = augment
    c.data.augment_kwargs = ml_collections.ConfigDict(views)
    c.data.unlabeled_views = ""
    c.data.views_kwargs = ml_collections.ConfigDict()
    c.data.with_index = with_index
    c.data.shuffle_buffer = 2048 if digits else 50000
    c.data.data_dir = ml_collections.config_dict.placeholder(str)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "adam"
    c.optimizer.learning_rate = 2e-3
    c.optimizer.schedule = "cosine"
    c.optimizer.warmup_steps = 100 if digits else 0
    c.optimizer.momentum = 0.9
    c.optimizer.nesterov = False
    c.optimizer.weight_decay = 0.0
    c.optimizer.ema = 0.0
    c.optimizer.clipnorm = ml_collections.config_dict.placeholder(float)
    unknown = optimizer.keys() - c.optimizer.keys()
    if unknown:
        raise ValueError(f"Unknown optimizer fields {sorted(unknown)}.")
    c.optimizer.update(optimizer)

    c.train = ml_collections.ConfigDict()
    c.train.steps = steps
    c.train.eval_every = eval_every
    c.train.seed = 0
    c.train.strategy = "none"
    c.train.jit_compile = False
    c.train.verbose = 1
    c.train.tensorboard = True
    c.train.keep_checkpoints = 2

    if arg == "smoke":
        c.method.kwargs.update(smoke_kwargs or {})
        c.data.batch_size = smoke_batch_size
        if digits:
            c.train.steps = 10
            c.train.eval_every = 5
            c.optimizer.warmup_steps = 2
        else:
            c.model.backbone = "convnet"
            c.model.kwargs = ml_collections.ConfigDict({"widths": tuple(smoke_widths)})
            c.train.steps = 4
            c.train.eval_every = 2
            c.optimizer.warmup_steps = min(c.optimizer.warmup_steps, 1)
    c.lock()
    return c
