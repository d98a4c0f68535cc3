"""MixMatch (Berthelot et al. 2019) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/mixmatch/cifar10.py:labels=25 \
      --workdir=/tmp/tfless/mixmatch_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (25 / 400 for 250 / 4000 labels; default 25);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: WRN-28-2, labeled batch 64, unlabeled batch 64 (mu 1) with K 2 views, T 0.5, alpha
0.75, lambda_u 75 ramped linearly over 16,000 steps, Adam lr 0.002, decoupled weight decay
0.02 (times the lr), EMA 0.999, 2^20 steps.

Published test error (not measured here): 11.08 / 6.24% with 250 / 4000 labels ("MixMatch: A
Holistic Approach to Semi-Supervised Learning", arXiv:1905.02249, CIFAR-10 results);
70.67 / 37.28 / 7.38% with 40 / 250 / 4000 in USB's classic CV benchmark (arXiv:2208.07204,
microsoft/Semi-supervised-learning).
Compute: 2^20 steps, about 4 GPU-days (official FixMatch TF code) or 16 h on 4 V100s (TorchSSL);
not runnable on the 2-core CPU machine (about 1 s per WRN-28-2 step of 64 images on CPU).
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=25)
    c = semi.semi_config(
        "mixmatch",
        {
            "temperature": 0.5,
            "alpha": 0.75,
            "lambda_u": 75.0,
            "rampup_steps": 16000,
            "weight_decay": 0.0,
        },
        labels=labels,
        mu=1,
        unlabeled_views="multi_weak",
        views_kwargs={"k": 2},
    )
    semi.wrn_recipe(c, "cifar10")
    c.optimizer.update(
        name="adam", learning_rate=0.002, schedule="constant", nesterov=False, weight_decay=0.02
    )
    if smoke:
        semi.smoke(c)
        c.method.kwargs.rampup_steps = 2
    return common.locked(c)
