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
32-64-128 on 16x16 digits; Adam 2e-3, constant after 100 warmup steps. Data loaded with_index
(``num_data``, the number of assignments, is read from the data).
"""

from tfless.configs import common, contrastive


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = contrastive.contrastive_config(
        "deepcluster",
        {"num_clusters": 50, "pca_dim": 64},
        augment="flip_crop",
        augment_kwargs=common.DIGITS_CROP,
        batch_size=128,
        steps=2000,
        eval_every=100,
        with_index=True,
    )
    # Constant, as in the paper: the classifier is re-initialized at every clustering and
    # must learn again; a decayed rate leaves it at chance by the end (measured).
    c.optimizer.schedule = "constant"
    if smoke:
        common.digits_smoke(c, batch_size=16)
        c.method.kwargs.update(num_clusters=10, pca_dim=8)
    return common.locked(c)
