"""ReMixMatch (Berthelot et al. 2020) on the built-in digits, 4 labels per class.

Command:
  tfless-train --config=configs/remixmatch/digits.py --workdir=/tmp/tfless/remixmatch

Args: (none) 4 labels per class; ``labels=N`` N per class; ``smoke`` a few steps.

Recipe: the supervised digits baseline's backbone (convnet 32-64-128, 16x16), optimizer
(Adam 2e-3, cosine, warmup 100, EMA 0.99) and budget (3,000 steps), labeled batch 32,
mu 1, K 8 CTAugment views made in-graph from the weak view, lambdas 1.5/0.5/0.5,
unlabeled terms ramped over the first third.

Measured at a sixth of this budget (1,000 steps, labeled batch 16, seeds 0-2, 2026-11-23;
benchmarks/results/semi.md): 96.3 +- 0.5% test accuracy, 70% of the gap between labeled-only
(88.3 +- 1.7%) and all labels (99.7 +- 0.2%).
Compute (2 CPU cores): 10-20 minutes (CTAugment runs in the step).
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=4)
    c = semi.semi_config(
        "remixmatch",
        {
            "num_strong": 8,
            "lambda_u": 1.5,
            "lambda_u1": 0.5,
            "lambda_r": 0.5,
            "rampup_steps": 1000,  # the first third of the 3,000 steps
            "view_key": "image",
            "cta_ops": None,
            "weight_decay": 0.0,
        },
        labels=labels,
        mu=1,
        unlabeled_views="flip_crop",
    )
    if smoke:
        semi.smoke(c)
        c.method.kwargs.update(rampup_steps=2, num_strong=2, cta_ops=("Identity", "Rotate"))
    return common.locked(c)
