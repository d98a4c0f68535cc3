"""DeepCluster (Caron et al. 2018) hyperparameters on CIFAR-10.

Command:
  tfless-train --config=configs/deepcluster/cifar10.py --workdir=/tmp/tfless/deepcluster_cifar10
  tfless-eval --workdir=/tmp/tfless/deepcluster_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   100 epochs at batch 256 (19,500 steps), re-clustering every epoch (195 steps).
           Not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: the paper's: PCA to 256 dims with whitening, L2 normalization, k = 10x the
classes = 100, SGD lr 0.05 (constant), momentum 0.9, weight decay 1e-5, re-clustering every epoch,
uniform sampling over clusters (here by loss weights), head re-initialized each epoch;
flip-and-crop views (the paper also Sobel-filters the input; not done here).
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
        {"num_data": 50000, "num_clusters": 100, "pca_dim": 256}
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
    c.optimizer.learning_rate = 0.05
    # Constant, as in the paper: the classifier is re-initialized at every clustering and
    # must learn again; a decayed rate leaves it at chance by the end (measured).
    c.optimizer.schedule = "constant"
    c.optimizer.warmup_steps = 0
    c.optimizer.momentum = 0.9
    c.optimizer.nesterov = False
    c.optimizer.weight_decay = 1e-5
    c.optimizer.ema = 0.0
    c.optimizer.clipnorm = ml_collections.config_dict.placeholder(float)

    c.train = ml_collections.ConfigDict()
    c.train.steps = 19500
    c.train.eval_every = 195
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
        c.method.kwargs.num_clusters = 10
        c.method.kwargs.pca_dim = 8
        c.train.steps = 4
        c.train.eval_every = 2
        c.data.batch_size = 16
    c.lock()
    return c
