"""MixMatch (Berthelot et al. 2019) on the built-in digits, 4 labels per class.

Command:
  tfless-train --config=configs/mixmatch/digits.py --workdir=/tmp/tfless/mixmatch

Args: (none) 4 labels per class; ``labels=N`` N per class; ``smoke`` a few steps.

Recipe: the supervised digits baseline's backbone (convnet 32-64-128, 16x16), optimizer
(Adam 2e-3, cosine, warmup 100, EMA 0.99) and budget (3,000 steps), labeled batch 32,
mu 1, K 2, T 0.5, alpha 0.75, lambda_u 75 ramped linearly over the first third.

Measured at a sixth of this budget (1,000 steps, labeled batch 16, seeds 0-2, 2026-11-23;
benchmarks/results/semi.md): 96.9 +- 0.4% test accuracy, 76% of the gap between labeled-only
(88.3 +- 1.7%) and all labels (99.7 +- 0.2%).
Compute (2 CPU cores): a few minutes.
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=4)
    c = semi.semi_config(
        "mixmatch",
        {
            "temperature": 0.5,
            "alpha": 0.75,
            "lambda_u": 75.0,
            "rampup_steps": 1000,  # the first third of the 3,000 steps
            "weight_decay": 0.0,
        },
        labels=labels,
        mu=1,
        unlabeled_views="multi_weak",
        views_kwargs={"k": 2},
    )
    if smoke:
        semi.smoke(c)
        c.method.kwargs.rampup_steps = 2
    return common.locked(c)
