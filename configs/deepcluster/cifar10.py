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
flip-and-crop views (the paper also Sobel-filters the input; not done here). ``num_data``
(one cluster assignment per training image) is read from the data.
"""

from tfless.configs import common, contrastive


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = contrastive.contrastive_config(
        "deepcluster",
        {"num_clusters": 100, "pca_dim": 256},
        augment="flip_crop",
        augment_kwargs=common.CIFAR_CROP,
        batch_size=256,
        steps=19500,
        eval_every=195,
        with_index=True,
    )
    contrastive.cifar10_recipe(c)
    # Constant, as in the paper: the classifier is re-initialized at every clustering and
    # must learn again; a decayed rate leaves it at chance by the end (measured).
    c.optimizer.update(name="sgd", learning_rate=0.05, schedule="constant", weight_decay=1e-5)
    if smoke:
        common.tiny_convnet_smoke(c)
        c.method.kwargs.update(num_clusters=10, pca_dim=8)
    return common.locked(c)
