"""CPC v2 (Henaff et al. 2019) scaled to CIFAR-10.

Command:
  tfless-train --config=configs/cpc/cifar10.py --workdir=/tmp/tfless/cpc_cifar10
  tfless-eval --workdir=/tmp/tfless/cpc_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   200 epochs at batch 256 (39,000 steps). Paper (ImageNet, ResNet-161): 71.5% linear;
           CPC v2 ResNet-50 63.8% (REFERENCE_NUMBERS.md). Not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: the paper's grid geometry at CIFAR scale: a 7x7 grid of 8 px patches at stride
4 (the paper: 7x7 of 64 px at stride 32), predictions up to 5 rows ahead (van den Oord et al.
2018), masked residual context network; Adam 2e-4 (the paper's optimizer; our choice of
rate), flip-and-crop views. CPC v2 uses layer norm in the encoder: pass a backbone without
batch norm for a faithful run.
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = arg or ""
    if arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '' or 'smoke'.")
    c = ml_collections.ConfigDict()

    c.method = ml_collections.ConfigDict()
    c.method.name = "cpc"
    c.method.kwargs = ml_collections.ConfigDict(
        {"patch_size": 8, "patch_stride": 4, "prediction_steps": 5, "context_layers": 5}
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
        c.method.kwargs.prediction_steps = 2
        c.method.kwargs.context_layers = 1
        c.train.steps = 4
        c.train.eval_every = 2
        c.data.batch_size = 8
    c.lock()
    return c
