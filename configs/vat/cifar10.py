"""VAT (Miyato et al. 2018) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/vat/cifar10.py:labels=400 \
      --workdir=/tmp/tfless/vat_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (4 / 25 / 400 for 40 / 250 / 4000 labels; default 400);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: the FixMatch/USB protocol (WRN-28-2, batch 64, mu 7, SGD nesterov 0.03 with
FixMatch's cosine, weight decay 5e-4, 2^20 steps) with eps 6, xi 1e-6, one power iteration
(the paper uses eps 8 on ZCA-whitened CIFAR-10 with augmentation; USB uses 6).

Published test error (not measured here): 11.36% with 4000 labels ("Virtual Adversarial
Training: A Regularization Method for Supervised and Semi-Supervised Learning",
arXiv:1704.03976, CIFAR-10 with augmentation, ConvLarge); WRN-28-2 76.42 / 42.58 / 10.97%
with 40 / 250 / 4000 in USB's classic CV benchmark (arXiv:2208.07204,
microsoft/Semi-supervised-learning).
Compute: 2^20 steps, about 4 GPU-days (official FixMatch TF code) or 16 h on 4 V100s (TorchSSL);
not runnable on the 2-core CPU machine (about 1 s per WRN-28-2 step of 64 images on CPU).
VAT needs 3 passes per unlabeled batch.
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=400)
    c = semi.semi_config(
        "vat",
        {
            "eps": 6.0,
            "xi": 1e-6,
            "num_iterations": 1,
            "alpha": 1.0,
            "entropy_min": False,
            "weight_decay": 5e-4,
        },
        labels=labels,
        mu=7,
        unlabeled_views="flip_crop",
    )
    semi.wrn_recipe(c, "cifar10")
    if smoke:
        semi.smoke(c)
    return common.locked(c)
