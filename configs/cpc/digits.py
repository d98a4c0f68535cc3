"""CPC v2 (Henaff et al. 2019) on the built-in digits, no labels.

Command:
  tfless-train --config=configs/cpc/digits.py --workdir=/tmp/tfless/cpc_digits
  tfless-eval --workdir=/tmp/tfless/cpc_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   600 steps at batch 32 (every step encodes 800 patches). Not measured end to end
           yet (batch 128 ran at ~3 s/step on shared cores); the unit test shows the loss
           falling on digits. Expected: kNN above the random-init encoder.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: 24x24 digits cut into a 5x5 grid of 8 px patches at stride 4 (half-overlapping,
as the paper's 64 px patches at stride 32), masked context network of 2 residual blocks,
InfoNCE predicting 2 rows ahead among all patches of the batch; ConvNet 32-64-128 as the
patch encoder; pad-and-crop views; Adam 2e-3, cosine decay.
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
        {"patch_size": 8, "patch_stride": 4, "prediction_steps": 2, "context_layers": 2}
    )

    c.model = ml_collections.ConfigDict()
    c.model.backbone = "convnet"
    c.model.kwargs = ml_collections.ConfigDict({"widths": (32, 64, 128)})

    c.data = ml_collections.ConfigDict()
    c.data.dataset = "digits"
    c.data.pipeline = "unlabeled"
    c.data.image_size = 24
    c.data.channels = 1
    c.data.batch_size = 32
    c.data.eval_batch_size = 540
    c.data.labels_per_class = ml_collections.config_dict.placeholder(int)
    c.data.split_seed = 0
    c.data.mu = 0
    c.data.augment = "flip_crop"
    c.data.augment_kwargs = ml_collections.ConfigDict({"flip": False, "pad_fraction": 0.125})
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
    c.train.steps = 600
    c.train.eval_every = 150
    c.train.seed = 0
    c.train.strategy = "none"
    c.train.jit_compile = False
    c.train.verbose = 1
    c.train.tensorboard = True
    c.train.keep_checkpoints = 2

    if arg == "smoke":
        c.train.steps = 10
        c.train.eval_every = 5
        c.optimizer.warmup_steps = 2
        c.data.batch_size = 16
    c.lock()
    return c
