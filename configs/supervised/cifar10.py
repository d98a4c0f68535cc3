"""Fully supervised WRN-28-2 on CIFAR-10 (the reference of the semi-supervised tables).

Command (needs CIFAR-10 prepared for TFDS and a GPU):
  tfless-train --config=configs/supervised/cifar10.py --workdir=/tmp/tfless/sup_c10 \
      --strategy=mirrored

Args: (none) all 50,000 labels; ``labels=N`` N labels per class (labeled-only reference);
``smoke`` a few steps on whatever data is there (tests run it on TFDS mock data).

Published test error (not measured here): 4.62% with all labels (TorchSSL's fully supervised
WRN-28-2, github.com/TorchSSL/TorchSSL results table; 4.60% in USB's classic CV table);
labeled-only with 4 / 25 / 400 labels per class: 77.58 / 55.96 / 15.51% (USB, "USB: A Unified
Semi-supervised Learning Benchmark for Classification", arXiv:2208.07204, classic CV results of
microsoft/Semi-supervised-learning).

Recipe of those baselines (``tfless.configs.supervised.wrn_recipe``): SGD nesterov momentum
0.9, lr 0.03 with FixMatch's cosine decay, weight decay 5e-4, batch 64, 2^20 steps, EMA
0.999, pad-crop + flip augmentation. Compute: about 16 GPU-hours on a V100; not runnable on
the 2-core CPU machine (a CPU step of WRN-28-2 at batch 64 takes ~1 s).
"""

from tfless.configs import common, supervised


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=None)
    if labels and smoke:
        raise ValueError(f"Config arg {arg!r}: use 'labels=N' or 'smoke', not both.")
    c = common.digits_base()
    c.method.kwargs.weight_decay = 5e-4
    supervised.wrn_recipe(c, "cifar10")
    c.data.labels_per_class = labels
    c.data.augment = "flip_crop"
    if smoke:
        common.tiny_convnet_smoke(c, batch_size=16)
        c.data.augment = "identity"
    return common.locked(c)
