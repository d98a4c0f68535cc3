"""FixMatch (Sohn et al. 2020) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/fixmatch/cifar10.py:labels=25 \
      --workdir=/tmp/tfless/fixmatch_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (4 / 25 / 400 for 40 / 250 / 4000 labels; default 25);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: WRN-28-2, labeled batch 64, mu 7, threshold 0.95, lambda_u 1, RandAugment
(weak_strong views), SGD nesterov 0.9, lr 0.03 with lr cos(7 pi k / 16K), coupled weight
decay 5e-4, EMA 0.999 for evaluation, 2^20 steps.

Published test error (not measured here): 13.81 / 5.07 / 4.26% with 40 / 250 / 4000 labels
("FixMatch: Simplifying Semi-Supervised Learning with Consistency and Confidence",
arXiv:2001.07685, Table 2, RandAugment); 8.33 / 4.97 / 4.29% in USB's classic CV benchmark
(arXiv:2208.07204, microsoft/Semi-supervised-learning).
Compute: 2^20 steps, about 4 GPU-days (official FixMatch TF code) or 16 h on 4 V100s (TorchSSL);
not runnable on the 2-core CPU machine (about 1 s per WRN-28-2 step of 64 images on CPU).
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=25)
    c = semi.semi_config(
        "fixmatch",
        {"threshold": 0.95, "lambda_u": 1.0, "weight_decay": 5e-4},
        labels=labels,
        mu=7,
        unlabeled_views="weak_strong",
    )
    semi.wrn_recipe(c, "cifar10")
    if smoke:
        semi.smoke(c)
        c.data.views_kwargs.ops_list = ("Identity", "Rotate")
    return common.locked(c)
