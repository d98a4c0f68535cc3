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

import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "_contrastive_base",
    os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_contrastive_base.py"
    ),
)
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)


def get_config(arg: str | None = None):
    return _base.contrastive_config(
        "cifar10",
        "deepcluster",
        {"num_data": 50000, "num_clusters": 100, "pca_dim": 256},
        arg,
        augment="flip_crop",
        batch_size=256,
        steps=19500,
        eval_every=195,
        with_index=True,
        # Constant, as in the paper: the classifier is re-initialized at every clustering and
        # must learn again; a decayed rate leaves it at chance by the end (measured).
        optimizer={
            "name": "sgd",
            "learning_rate": 0.05,
            "schedule": "constant",
            "weight_decay": 1e-5,
        },
        smoke_kwargs={"num_data": 2000, "num_clusters": 10, "pca_dim": 8},
    )
