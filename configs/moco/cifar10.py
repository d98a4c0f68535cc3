"""MoCo v2 (Chen, Fan, Girshick & He 2020) hyperparameters on CIFAR-10.

Command:
  tfless-train --config=configs/moco/cifar10.py --workdir=/tmp/tfless/moco_cifar10
  tfless-eval --workdir=/tmp/tfless/moco_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   200 epochs at batch 256 (39,000 steps). Paper (ImageNet, ResNet-50, 200 epochs):
           67.5% linear; solo-learn CIFAR-10 ResNet-18 MoCo v2+ 92.94% (REFERENCE_NUMBERS.md).
           Days on a GPU; not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: the paper's: K = 65536 (a multiple of 256), m = 0.999, temperature 0.2, MLP
head, SGD lr 0.03 * batch / 256 = 0.03, momentum 0.9, weight decay 1e-4, cosine decay;
SimCLR-style augmentation with blur (MoCo v2, Sec. 2).
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = arg or ""
    if arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '' or 'smoke'.")
    c = ml_collections.ConfigDict()

    c.method = ml_collections.ConfigDict()
    c.method.name = "moco"
    c.method.kwargs = ml_collections.ConfigDict(
        {"version": 2, "queue_size": 65536, "momentum": 0.999, "temperature": 0.2}
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
    c.data.augment = "simclr"
    c.data.augment_kwargs = ml_collections.ConfigDict({"strength": 1.0, "blur": True})
    c.data.unlabeled_views = ""
    c.data.views_kwargs = ml_collections.ConfigDict()
    c.data.with_index = False
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
        c.method.kwargs.queue_size = 64
        c.train.steps = 4
        c.train.eval_every = 2
        c.data.batch_size = 16
    c.lock()
    return c
