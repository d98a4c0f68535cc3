"""Shared schema of the pretext-task digits configs (loaded by path, like ``_semi_base.py``).

The recipe every pretext config shares: the supervised baseline's ConvNet (32-64-128) on
digits resized to 24x24, no labels read for training (``data.pipeline="unlabeled"``), Adam
2e-3 with cosine decay and 100 warmup steps, batch 64, 2,000 steps, an online linear probe
every ``eval_every`` steps. Each config names its method, its paper's hyperparameters and
how ``:smoke`` shrinks them.
"""

import ml_collections


def pretext_config(
    method: str, kwargs: dict, arg: str | None = None, smoke_kwargs: dict | None = None
) -> ml_collections.ConfigDict:
    """The shared digits schema of the pretext tasks, locked; ``smoke_kwargs`` shrink the method."""
    arg = arg or ""
    if arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '' or 'smoke'.")
    c = ml_collections.ConfigDict()

    c.method = ml_collections.ConfigDict()
    c.method.name = method
    c.method.kwargs = ml_collections.ConfigDict(dict(kwargs))

    c.model = ml_collections.ConfigDict()
    c.model.backbone = "convnet"
    c.model.kwargs = ml_collections.ConfigDict({"widths": (32, 64, 128)})

    c.data = ml_collections.ConfigDict()
    c.data.dataset = "digits"
    c.data.pipeline = "unlabeled"
    c.data.image_size = 24
    c.data.channels = 1
    c.data.batch_size = 64
    c.data.eval_batch_size = 540
    c.data.labels_per_class = ml_collections.config_dict.placeholder(int)
    c.data.split_seed = 0
    c.data.mu = 0
    c.data.augment = "identity"
    c.data.augment_kwargs = ml_collections.ConfigDict()
    c.data.unlabeled_views = ""
    c.data.views_kwargs = ml_collections.ConfigDict()
    c.data.with_index = False
    c.data.shuffle_buffer = 2048
    c.data.data_dir = ml_collections.config_dict.placeholder(str)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "adam"
    c.optimizer.learning_rate = 2e-3
    c.optimizer.schedule = "cosine"
    c.optimizer.warmup_steps = 100
    c.optimizer.momentum = 0.9
    c.optimizer.nesterov = False
    c.optimizer.weight_decay = 0.0
    c.optimizer.ema = 0.0
    c.optimizer.clipnorm = ml_collections.config_dict.placeholder(float)

    c.train = ml_collections.ConfigDict()
    c.train.steps = 2000
    c.train.eval_every = 500
    c.train.seed = 0
    c.train.strategy = "none"
    c.train.jit_compile = False
    c.train.verbose = 1
    c.train.tensorboard = True
    c.train.keep_checkpoints = 2

    # Online linear probe every `eval_every` steps on 1,000 labeled training images (labels
    # are read by the probe only); logged as `probe_accuracy`.
    c.eval = ml_collections.ConfigDict()
    c.eval.online_probe_every = 1
    c.eval.online_probe_examples = 1000

    if arg == "smoke":
        c.train.steps = 10
        c.train.eval_every = 5
        c.optimizer.warmup_steps = 2
        c.data.batch_size = 16
        c.method.kwargs.update(smoke_kwargs or {})
    c.lock()
    return c
