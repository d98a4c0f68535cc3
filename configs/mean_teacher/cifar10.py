"""Mean Teacher (Tarvainen & Valpola 2017) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/mean_teacher/cifar10.py:labels=400 \
      --workdir=/tmp/tfless/mean_teacher_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (400 for the paper's 4000 labels; default 400);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: the FixMatch/USB protocol (WRN-28-2, batch 64, mu 7, SGD nesterov 0.03 with
FixMatch's cosine, weight decay 5e-4, 2^20 steps) with Mean Teacher's loss: consistency
weight 100 (MSE on softmax averaged over classes), sigmoid ramp-up over 40,000 steps,
teacher EMA 0.99 during the ramp-up and 0.999 after.

Published test error (not measured here): 12.31% with 4000 labels ("Mean teachers are better
role models: Weight-averaged consistency targets improve semi-supervised deep learning
results", arXiv:1703.01780, Table 2, ConvLarge); WRN-28-2 76.93 / 56.06 / 15.47% with 40 /
250 / 4000 in USB's classic CV benchmark (arXiv:2208.07204, microsoft/Semi-supervised-learning).
Compute: 2^20 steps, about 4 GPU-days (official FixMatch TF code) or 16 h on 4 V100s (TorchSSL);
not runnable on the 2-core CPU machine (about 1 s per WRN-28-2 step of 64 images on CPU).
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=400)
    c = semi.semi_config(
        "mean_teacher",
        {
            "consistency_weight": 100.0,
            "rampup_steps": 40000,
            "ema_decay": 0.999,
            "ema_decay_rampup": 0.99,
            "weight_decay": 5e-4,
        },
        labels=labels,
        mu=7,
        unlabeled_views="multi_weak",
        views_kwargs={"k": 2},
    )
    semi.wrn_recipe(c, "cifar10")
    if smoke:
        semi.smoke(c)
        c.method.kwargs.rampup_steps = 2
    return common.locked(c)
