"""DeepCluster (Caron et al. 2018) on the built-in digits, no labels.

Command:
  tfless-train --config=configs/deepcluster/digits.py --workdir=/tmp/tfless/deepcluster_digits
  tfless-eval --workdir=/tmp/tfless/deepcluster_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   2000 steps at batch 128, re-clustering every 100 steps (~10 passes over the data).
           Measured (seed 0, 2026-11-23): kNN 95.9%, linear probe 98.3% on the test split,
           vs 79.3% / 98.5% for the same encoder at random init; 16 minutes on 2 shared
           CPU cores (with a cosine-decayed rate: kNN 87.4%, the head ended at chance).
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: k = 50 clusters (the paper's rule is 10x the classes; with 100 clusters and a
classifier re-initialized every 20 steps the head never learned: cross-entropy stayed at
log 100), PCA-whitening to 64 dims,
L2 normalization, k-means with empty-cluster reassignment, uniform weighting over clusters,
classifier re-initialized at each clustering; pad-and-crop views (no flip); ConvNet
32-64-128 on 16x16 digits; Adam 2e-3, constant after 100 warmup steps. Data loaded with_index.
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = arg or ""
    if arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '' or 'smoke'.")
    c = ml_collections.ConfigDict()

    c.method = ml_collections.ConfigDict()
    c.method.name = "deepcluster"
    c.method.kwargs = ml_collections.ConfigDict(
        {"num_data": 1257, "num_clusters": 50, "pca_dim": 64}
    )

    c.model = ml_collections.ConfigDict()
    c.model.backbone = "convnet"
    c.model.kwargs = ml_collections.ConfigDict({"widths": (32, 64, 128)})

    c.data = ml_collections.ConfigDict()
    c.data.dataset = "digits"
    c.data.pipeline = "unlabeled"
    c.data.image_size = 16
    c.data.channels = 1
    c.data.batch_size = 128
    c.data.eval_batch_size = 540
    c.data.labels_per_class = ml_collections.config_dict.placeholder(int)
    c.data.split_seed = 0
    c.data.mu = 0
    c.data.augment = "flip_crop"
    c.data.augment_kwargs = ml_collections.ConfigDict({"flip": False, "pad_fraction": 0.125})
    c.data.unlabeled_views = ""
    c.data.views_kwargs = ml_collections.ConfigDict()
    c.data.with_index = True
    c.data.shuffle_buffer = 2048
    c.data.data_dir = ml_collections.config_dict.placeholder(str)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "adam"
    c.optimizer.learning_rate = 2e-3
    # Constant, as in the paper: the classifier is re-initialized at every clustering and
    # must learn again; a decayed rate leaves it at chance by the end (measured).
    c.optimizer.schedule = "constant"
    c.optimizer.warmup_steps = 100
    c.optimizer.momentum = 0.9
    c.optimizer.nesterov = False
    c.optimizer.weight_decay = 0.0
    c.optimizer.ema = 0.0
    c.optimizer.clipnorm = ml_collections.config_dict.placeholder(float)

    c.train = ml_collections.ConfigDict()
    c.train.steps = 2000
    c.train.eval_every = 100
    c.train.seed = 0
    c.train.strategy = "none"
    c.train.jit_compile = False
    c.train.verbose = 1
    c.train.tensorboard = True
    c.train.keep_checkpoints = 2

    if arg == "smoke":
        c.method.kwargs.num_clusters = 10
        c.method.kwargs.pca_dim = 8
        c.train.steps = 10
        c.train.eval_every = 5
        c.optimizer.warmup_steps = 2
        c.data.batch_size = 16
    c.lock()
    return c
