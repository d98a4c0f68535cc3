"""Pseudo-Label (Lee 2013) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/pseudo_label/cifar10.py:labels=400 \
      --workdir=/tmp/tfless/pseudo_label_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (4 / 25 / 400 for 40 / 250 / 4000 labels; default 400);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: the FixMatch/USB protocol (WRN-28-2, batch 64, mu 7, SGD nesterov 0.03 with
FixMatch's cosine, weight decay 5e-4, 2^20 steps) with USB's Pseudo-Label settings:
threshold 0.95, weight 1 ramped linearly over the first 40% of training.

Published test error (not measured here): 17.78% with 4000 labels (the re-implementation in
"Realistic Evaluation of Deep Semi-Supervised Learning Algorithms", Oliver et al. 2018,
arXiv:1804.09170); 76.29 / 48.28 / 14.9% with 40 / 250 / 4000 in USB's classic CV benchmark
(arXiv:2208.07204, microsoft/Semi-supervised-learning).
Compute: 2^20 steps, about 4 GPU-days (official FixMatch TF code) or 16 h on 4 V100s (TorchSSL);
not runnable on the 2-core CPU machine (about 1 s per WRN-28-2 step of 64 images on CPU).
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=400)
    c = semi.semi_config(
        "pseudo_label",
        {
            "threshold": 0.95,
            "alpha_f": 1.0,
            "rampup_start": 0,
            "rampup_end": 419430,  # 40% of 2^20 steps
            "weight_decay": 5e-4,
        },
        labels=labels,
        mu=7,
        unlabeled_views="flip_crop",
    )
    semi.wrn_recipe(c, "cifar10")
    if smoke:
        semi.smoke(c)
        c.method.kwargs.update(rampup_start=0, rampup_end=2)
    return common.locked(c)
