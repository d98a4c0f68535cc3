"""SimCLR (Chen et al. 2020, Appendix B.9) on CIFAR-10: the paper's CIFAR recipe.

Command:
  tfless-train --config=configs/simclr/cifar10.py --workdir=/tmp/tfless/simclr_cifar10
  tfless-eval --workdir=/tmp/tfless/simclr_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   the paper's schedule: 1000 epochs at batch 1024 (48,800 steps), ResNet (CIFAR stem).
           Paper: ResNet-50 linear eval 94.0% (REFERENCE_NUMBERS.md); solo-learn ResNet-18
           1000 epochs 90.74%. Days on a GPU; not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: NT-Xent temperature 0.5, projection 2048-2048-128 (hidden = feature size),
LARS learning rate 1.0 * batch / 256 = 4.0 at batch 1024 (the paper's best CIFAR setting,
B.9), weight decay 1e-6, momentum 0.9, 10 warmup epochs then cosine decay; augmentation:
random resized crop + flip + colour jitter strength 0.5, no blur (Appendix B.9).
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = arg or ""
    if arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '' or 'smoke'.")
    c = ml_collections.ConfigDict()

    c.method = ml_collections.ConfigDict()
    c.method.name = "simclr"
    c.method.kwargs = ml_collections.ConfigDict({"projection_dim": 128, "temperature": 0.5})

    c.model = ml_collections.ConfigDict()
    c.model.backbone = "resnet18"
    c.model.kwargs = ml_collections.ConfigDict({})

    c.data = ml_collections.ConfigDict()
    c.data.dataset = "cifar10"
    c.data.pipeline = "unlabeled"
    c.data.image_size = 32
    c.data.channels = 3
    c.data.batch_size = 1024
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
    c.optimizer.name = "lars"
    c.optimizer.learning_rate = 4.0
    c.optimizer.schedule = "cosine"
    c.optimizer.warmup_steps = 490
    c.optimizer.momentum = 0.9
    c.optimizer.nesterov = False
    c.optimizer.weight_decay = 1e-6
    c.optimizer.ema = 0.0
    c.optimizer.clipnorm = ml_collections.config_dict.placeholder(float)

    c.train = ml_collections.ConfigDict()
    c.train.steps = 48800
    c.train.eval_every = 4880
    c.train.seed = 0
    c.train.strategy = "none"
    c.train.jit_compile = False
    c.train.verbose = 1
    c.train.tensorboard = True
    c.train.keep_checkpoints = 2

    if arg == "smoke":
        c.model.backbone = "convnet"
        c.model.kwargs = ml_collections.ConfigDict({"widths": (8, 16)})
        c.train.steps = 4
        c.train.eval_every = 2
        c.optimizer.warmup_steps = 1
        c.data.batch_size = 16
    c.lock()
    return c
