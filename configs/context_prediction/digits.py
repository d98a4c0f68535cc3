"""Context prediction (Doersch et al. 2015) on the built-in digits,
no labels (pre-training for the linear probe / kNN).

Command:
  tfless-train --config=configs/context_prediction/digits.py \
      --workdir=/tmp/tfless/context_prediction_digits
  tfless-eval \
      --workdir=/tmp/tfless/context_prediction_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   2000 steps. Expected: linear probe above the random-init encoder (see
           benchmarks/results/selfsup.md); about 2 minutes on 2 CPU cores.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: center patch + one of 8 neighbours (largest patch that fits: 5 px at 24x24, gap 2, no
jitter at this size), 8-way classification; fc7 shrunk to 512 units. The encoder is the
supervised baseline's ConvNet (32-64-128), digits resized to 24x24; Adam 2e-3 with cosine decay
and 100 warmup steps, batch 64, no augmentation (the pretext task builds its own inputs in-
graph), no labels read."""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = arg or ""
    if arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '' or 'smoke'.")
    c = ml_collections.ConfigDict()

    c.method = ml_collections.ConfigDict()
    c.method.name = "context_prediction"
    c.method.kwargs = ml_collections.ConfigDict(
        {
            "patch_size": None,
            "gap_ratio": 0.5,
            "jitter_ratio": 7 / 96,
            "aberration": "color_drop",
            "hidden_dim": 512,
        }
    )

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
        c.method.kwargs.hidden_dim = 32
    c.lock()
    return c
