"""Neural Rendering Model (Ho et al., arXiv 1811.02657), semi-supervised, on the built-in digits.

Command:
  tfless-train --config=configs/nrm/digits.py --workdir=/tmp/tfless/nrm_digits

Args: (none) 4 labels per class; ``labels=N`` N per class; ``smoke`` a few steps.

Recipe: the semi-supervised digits recipe (16x16, Adam 2e-3 cosine, warmup 100, EMA 0.99,
3,000 steps, labeled batch 32 with pad-and-crop), mu 3 unaugmented unlabeled images per
labeled one, on the ``allconv`` chain 32-M-64-M-128 (the NRM code's AllConv-13 shrunk to
digits, no batch norm). Losses: max-min cross-entropy (min branch weight 0.5), pixel-MSE
reconstruction through the shared-kernel rendering path (weight 1), rendering path
normalization (weight 0.01); the weights are tfless's choices.
Published: NRM reports results on SVHN, CIFAR-10 and CIFAR-100 only (published, not
measured here). Measured on mnist5k, 4 labels per class, 300 steps, 3 seeds
(benchmarks/generative.py): 64.5 +- 3.2%, the same as the allconv network trained on the
labels alone (64.5 +- 2.4%); FixMatch 81.8 +- 5.2% (benchmarks/results/generative.md).
Compute (2 CPU cores): a few minutes.
"""

import ml_collections

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=4)
    c = semi.semi_config(
        "nrm",
        {"reconstruction_weight": 1.0, "rpn_weight": 0.01, "min_weight": 0.5},
        labels=labels,
        mu=3,
        unlabeled_views="none",
    )
    c.data.views_kwargs = ml_collections.ConfigDict({})  # unaugmented unlabeled images
    c.model.backbone = "allconv"
    c.model.kwargs = ml_collections.ConfigDict({"layers": (32, "M", 64, "M", 128)})
    if smoke:
        semi.smoke(c)
        c.model.backbone = "allconv"
        c.model.kwargs = ml_collections.ConfigDict({"layers": (8, "M", 16)})
    return common.locked(c)
