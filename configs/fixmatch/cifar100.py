"""FixMatch (Sohn et al. 2020) on CIFAR-100: the paper's recipe.

Command (needs CIFAR-100 prepared for TFDS, and accelerators):
  tfless-train --config=configs/fixmatch/cifar100.py:labels=25 \
      --workdir=/tmp/tfless/fixmatch_cifar100 --strategy=mirrored

Args: ``labels=N`` labels per class (4 / 25 / 100 for 400 / 2500 / 10000 labels; default 25);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: WRN-28-8, labeled batch 64, mu 7, threshold 0.95, lambda_u 1, RandAugment, SGD
nesterov 0.9, lr 0.03 with FixMatch's cosine, coupled weight decay 1e-3, EMA 0.999, 2^20
steps.

Published test error (not measured here): 48.85 / 28.29 / 22.60% with 400 / 2500 / 10000
labels ("FixMatch: Simplifying Semi-Supervised Learning with Consistency and Confidence",
arXiv:2001.07685, Table 2, RandAugment).
Compute: 2^20 steps of WRN-28-8 (about 4x the FLOPs of WRN-28-2): days on several GPUs; not
runnable on the 2-core CPU machine.
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=25)
    c = semi.semi_config(
        "fixmatch",
        {"threshold": 0.95, "lambda_u": 1.0, "weight_decay": 1e-3},
        labels=labels,
        mu=7,
        unlabeled_views="weak_strong",
    )
    semi.wrn_recipe(c, "cifar100", backbone="wrn28_8")
    if smoke:
        semi.smoke(c)
        c.data.views_kwargs.ops_list = ("Identity", "Rotate")
    return common.locked(c)
