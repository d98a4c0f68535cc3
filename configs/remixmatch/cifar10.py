"""ReMixMatch (Berthelot et al. 2020) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/remixmatch/cifar10.py:labels=25 \
      --workdir=/tmp/tfless/remixmatch_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (4 / 25 / 400 for 40 / 250 / 4000 labels; default 25);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: WRN-28-2, labeled batch 64, unlabeled batch 64, K 8 CTAugment views (in-graph),
distribution alignment, lambdas 1.5 / 0.5 / 0.5 (match / anchor / rotation), unlabeled terms
ramped over 16,384 steps (1024 kimg), Adam lr 0.002, decoupled weight decay 0.02, EMA 0.999,
2^20 steps.

Published test error (not measured here): 6.27 / 5.14% with 250 / 4000 labels ("ReMixMatch:
Semi-Supervised Learning with Distribution Alignment and Augmentation Anchoring",
arXiv:1911.09785, CIFAR-10 results); 14.5 / 9.21 / 4.88% with 40 / 250 / 4000 in USB's
classic CV benchmark (arXiv:2208.07204, microsoft/Semi-supervised-learning).
Compute: 2^20 steps, about 4 GPU-days (official FixMatch TF code) or 16 h on 4 V100s (TorchSSL);
not runnable on the 2-core CPU machine (about 1 s per WRN-28-2 step of 64 images on CPU).
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=25)
    c = semi.semi_config(
        "remixmatch",
        {
            "num_strong": 8,
            "lambda_u": 1.5,
            "lambda_u1": 0.5,
            "lambda_r": 0.5,
            "rampup_steps": 16384,
            "view_key": "image",
            "cta_ops": None,
            "weight_decay": 0.0,
        },
        labels=labels,
        mu=1,
        unlabeled_views="flip_crop",
    )
    semi.wrn_recipe(c, "cifar10")
    c.optimizer.update(
        name="adam", learning_rate=0.002, schedule="constant", nesterov=False, weight_decay=0.02
    )
    if smoke:
        semi.smoke(c)
        c.method.kwargs.update(rampup_steps=2, num_strong=2, cta_ops=("Identity", "Rotate"))
    return common.locked(c)
