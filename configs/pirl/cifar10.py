"""PIRL (Misra & van der Maaten 2019) hyperparameters on CIFAR-10.

Command:
  tfless-train --config=configs/pirl/cifar10.py --workdir=/tmp/tfless/pirl_cifar10
  tfless-eval --workdir=/tmp/tfless/pirl_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   200 epochs at batch 256 (39,000 steps). Paper (ImageNet, ResNet-50): 63.6% linear
           (REFERENCE_NUMBERS.md). Days on a GPU; not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: the paper's loss settings: temperature 0.07, lambda 0.5, memory-bank EMA
0.5, 128-d; negatives scaled to the paper's ratio (32000 of 1.28M images -> 1250 of 50000);
3x3 jigsaw of 32 px images (10 px cells, 9 px tiles); SGD lr 0.03, momentum 0.9, weight
decay 1e-4, cosine decay (our choice for CIFAR; the paper trains on ImageNet).
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = arg or ""
    if arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '' or 'smoke'.")
    c = ml_collections.ConfigDict()

    c.method = ml_collections.ConfigDict()
    c.method.name = "pirl"
    c.method.kwargs = ml_collections.ConfigDict(
        {"num_data": 50000, "num_negatives": 1250, "temperature": 0.07, "loss_weight": 0.5}
    )

    c.model = ml_collections.ConfigDict()
    c.model.backbone = "resnet18"
    c.model.kwargs = ml_collections.ConfigDict({})

    c.data = ml_collections.ConfigDict()
    c.data.dataset = "cifar10"
    c.data.pipeline = "unlabeled"
    c.data.image_size = 32
    c.data.channels = 3
    c.data.batch_size = 256
    c.data.eval_batch_size = 1000
    c.data.labels_per_class = ml_collections.config_dict.placeholder(int)
    c.data.split_seed = 0
    c.data.mu = 0
    c.data.augment = "flip_crop"
    c.data.augment_kwargs = ml_collections.ConfigDict({"flip": True, "pad_fraction": 0.125})
    c.data.unlabeled_views = ""
    c.data.views_kwargs = ml_collections.ConfigDict()
    c.data.with_index = True
    c.data.shuffle_buffer = 50000
    c.data.data_dir = ml_collections.config_dict.placeholder(str)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "sgd"
    c.optimizer.learning_rate = 0.03
    c.optimizer.schedule = "cosine"
    c.optimizer.warmup_steps = 0
    c.optimizer.momentum = 0.9
    c.optimizer.nesterov = False
    c.optimizer.weight_decay = 1e-4
    c.optimizer.ema = 0.0
    c.optimizer.clipnorm = ml_collections.config_dict.placeholder(float)

    c.train = ml_collections.ConfigDict()
    c.train.steps = 39000
    c.train.eval_every = 3900
    c.train.seed = 0
    c.train.strategy = "none"
    c.train.jit_compile = False
    c.train.verbose = 1
    c.train.tensorboard = True
    c.train.keep_checkpoints = 2

    if arg == "smoke":
        c.model.backbone = "convnet"
        c.model.kwargs = ml_collections.ConfigDict({"widths": (8, 16)})
        c.method.kwargs.num_data = 2000
        c.method.kwargs.num_negatives = 16
        c.train.steps = 4
        c.train.eval_every = 2
        c.data.batch_size = 16
    c.lock()
    return c
