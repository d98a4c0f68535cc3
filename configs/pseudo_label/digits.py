"""Pseudo-Label (Lee 2013) on the built-in digits, 4 labels per class.

Command:
  tfless-train --config=configs/pseudo_label/digits.py --workdir=/tmp/tfless/pseudo_label

Args: (none) 4 labels per class; ``labels=N`` N per class; ``smoke`` a few steps.

Recipe: the supervised digits baseline's backbone (convnet 32-64-128, 16x16), optimizer
(Adam 2e-3, cosine, warmup 100, EMA 0.99) and budget (3,000 steps), labeled batch 32,
mu 7, threshold 0.95, alpha_f 3 ramped from 10% to 60% of training (Lee's T1/T2 of
100/600 of ~1000 epochs).

Measured at a sixth of this budget (1,000 steps, labeled batch 16, seeds 0-2, 2026-11-23;
benchmarks/results/semi.md): 95.8 +- 2.2% test accuracy, 66% of the gap between labeled-only
(88.3 +- 1.7%) and all labels (99.7 +- 0.2%).
Compute (2 CPU cores): a few minutes.
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=4)
    c = semi.semi_config(
        "pseudo_label",
        {
            "threshold": 0.95,
            "alpha_f": 3.0,
            "rampup_start": 300,  # 10% of the 3,000 steps
            "rampup_end": 1800,  # 60%
            "weight_decay": 0.0,
        },
        labels=labels,
        mu=7,
        unlabeled_views="flip_crop",
    )
    if smoke:
        semi.smoke(c)
        c.method.kwargs.update(rampup_start=0, rampup_end=2)
    return common.locked(c)
