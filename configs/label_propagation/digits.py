"""Label propagation (Iscen et al. 2019) on the built-in digits, 4 labels per class.

Command:
  tfless-train --config=configs/label_propagation/digits.py --workdir=/tmp/tfless/label_propagation

Args: (none) 4 labels per class; ``labels=N`` N per class; ``smoke`` a few steps.

Recipe: the supervised digits baseline's backbone (convnet 32-64-128, 16x16), optimizer
(Adam 2e-3, cosine, warmup 100, EMA 0.99) and budget (3,000 steps), labeled batch 32,
mu 1, kNN graph k 50, alpha 0.99, gamma 3, CG 20 iterations; the diffusion runs after
every evaluation epoch (``train.eval_every`` steps), the first epoch trains on labels only.
``num_examples`` (one pseudo-label slot per training image) is read from the data.

Measured at a sixth of this budget (1,000 steps, labeled batch 16, seeds 0-2, 2026-11-23;
benchmarks/results/semi.md): 93.8 +- 2.5% test accuracy, 49% of the gap between labeled-only
(88.3 +- 1.7%) and all labels (99.7 +- 0.2%).
Compute (2 CPU cores): a few minutes.
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=4)
    c = semi.semi_config(
        "label_propagation",
        {
            "k": 50,
            "alpha": 0.99,
            "gamma": 3.0,
            "max_iterations": 20,
            "weight_decay": 0.0,
        },
        labels=labels,
        mu=1,
        unlabeled_views="flip_crop",
        with_index=True,
    )
    if smoke:
        semi.smoke(c)
    return common.locked(c)
