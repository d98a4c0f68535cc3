"""AMDIM (Bachman et al. 2019) on the built-in digits, no labels.

Command:
  tfless-train --config=configs/amdim/digits.py --workdir=/tmp/tfless/amdim_digits
  tfless-eval --workdir=/tmp/tfless/amdim_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   1000 steps at batch 64. Not measured end to end yet (a 2000-step, batch-128
           run ran at ~4 s/step on shared cores and was stopped); the unit test shows all
           three NCE terms falling on digits. Expected: kNN above the random-init encoder.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: two SimCLR-style views, global (pooled 4x4 map) vs final 4x4 and middle 8x8
local features of the ConvNet 32-64-128 on 16x16 digits, embeddings of 128, NCE 1-5/1-7/5-5
both ways, tanh clip 20, score penalty 5e-2; Adam 2e-3, cosine decay.
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
        {"embedding_dim": 128, "clip": 20.0, "reg_weight": 0.05}
    )

    c.model = ml_collections.ConfigDict()
    c.model.backbone = "convnet"
    c.model.kwargs = ml_collections.ConfigDict({"widths": (32, 64, 128)})

    c.data = ml_collections.ConfigDict()
    c.data.dataset = "digits"
    c.data.pipeline = "unlabeled"
    c.data.image_size = 16
    c.data.channels = 1
    c.data.batch_size = 64
    c.data.eval_batch_size = 540
    c.data.labels_per_class = ml_collections.config_dict.placeholder(int)
    c.data.split_seed = 0
    c.data.mu = 0
    c.data.augment = "simclr"
    c.data.augment_kwargs = ml_collections.ConfigDict(
        {"size": None, "crop_scale": (0.3, 1.0), "flip": False, "strength": 0.5, "grayscale_p": 0.0}
    )
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
    c.train.steps = 1000
    c.train.eval_every = 250
    c.train.seed = 0
    c.train.strategy = "none"
    c.train.jit_compile = False
    c.train.verbose = 1
    c.train.tensorboard = True
    c.train.keep_checkpoints = 2

    if arg == "smoke":
        c.method.kwargs.embedding_dim = 16
        c.train.steps = 10
        c.train.eval_every = 5
        c.optimizer.warmup_steps = 2
        c.data.batch_size = 16
    c.lock()
    return c
