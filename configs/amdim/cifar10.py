"""AMDIM (Bachman, Hjelm & Buchwalter 2019) CIFAR-10 settings.

Command:
  tfless-train --config=configs/amdim/cifar10.py --workdir=/tmp/tfless/amdim_cifar10
  tfless-eval --workdir=/tmp/tfless/amdim_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   150 epochs at batch 200 (37,500 steps). Paper: 91.2% linear on CIFAR-10 with its own
           encoder; ResNet-18 here. Not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: embedding (n_rkhs) 1024, tanh clip 20, score penalty 5e-2, Adam 2e-4 at batch
200 (the authors' CIFAR-10 command line); SimCLR-style views standing in for the paper's
random resized crop + colour jitter + grayscale.
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = arg or ""
    if arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '' or 'smoke'.")
    c = ml_collections.ConfigDict()

    c.method = ml_collections.ConfigDict()
    c.method.name = "amdim"
    c.method.kwargs = ml_collections.ConfigDict(
        {"embedding_dim": 1024, "clip": 20.0, "reg_weight": 0.05}
    )

    c.model = ml_collections.ConfigDict()
    c.model.backbone = "resnet18"
    c.model.kwargs = ml_collections.ConfigDict({})

    c.data = ml_collections.ConfigDict()
    c.data.dataset = "cifar10"
    c.data.pipeline = "unlabeled"
    c.data.image_size = 32
    c.data.channels = 3
    c.data.batch_size = 200
    c.data.eval_batch_size = 1000
    c.data.labels_per_class = ml_collections.config_dict.placeholder(int)
    c.data.split_seed = 0
    c.data.mu = 0
    c.data.augment = "simclr"
    c.data.augment_kwargs = ml_collections.ConfigDict({"strength": 0.5, "blur": False})
    c.data.unlabeled_views = ""
    c.data.views_kwargs = ml_collections.ConfigDict()
    c.data.with_index = False
    c.data.shuffle_buffer = 50000
    c.data.data_dir = ml_collections.config_dict.placeholder(str)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "adam"
    c.optimizer.learning_rate = 2e-4
    c.optimizer.schedule = "cosine"
    c.optimizer.warmup_steps = 0
    c.optimizer.momentum = 0.9
    c.optimizer.nesterov = False
    c.optimizer.weight_decay = 0.0
    c.optimizer.ema = 0.0
    c.optimizer.clipnorm = ml_collections.config_dict.placeholder(float)

    c.train = ml_collections.ConfigDict()
    c.train.steps = 37500
    c.train.eval_every = 3750
    c.train.seed = 0
    c.train.strategy = "none"
    c.train.jit_compile = False
    c.train.verbose = 1
    c.train.tensorboard = True
    c.train.keep_checkpoints = 2

    if arg == "smoke":
        c.model.backbone = "convnet"
        c.model.kwargs = ml_collections.ConfigDict({"widths": (8, 16)})
        c.model.kwargs = ml_collections.ConfigDict({"widths": (8, 16, 16)})
        c.method.kwargs.embedding_dim = 16
        c.train.steps = 4
        c.train.eval_every = 2
        c.data.batch_size = 16
    c.lock()
    return c
