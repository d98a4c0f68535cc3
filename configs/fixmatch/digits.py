"""FixMatch (Sohn et al. 2020) on the built-in digits, 4 labels per class.

Command:
  tfless-train --config=configs/fixmatch/digits.py --workdir=/tmp/tfless/fixmatch

Args: (none) 4 labels per class; ``labels=N`` N per class; ``smoke`` a few steps.

Recipe: the supervised digits baseline's backbone (convnet 32-64-128, 16x16), optimizer
(Adam 2e-3, cosine, warmup 100, EMA 0.99) and budget (3,000 steps), labeled batch 32,
mu 7, threshold 0.95, lambda_u 1, weak = pad-crop, strong = RandAugment + Cutout.

Expected: above the labeled-only baseline (supervised ``:labeled``, about 80-85% test
accuracy) and below all labels (about 98%); benchmarks/semi.py measures it (results in
benchmarks/results/semi.md when run).
Compute (2 CPU cores): a step forwards 32 + 2 x 224 images; roughly 10-20 minutes.
"""

import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "_semi_base",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_semi_base.py"),
)
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)


def get_config(arg: str | None = None):
    c, smoke = _base.semi_config(
        "digits",
        "fixmatch",
        {"threshold": 0.95, "lambda_u": 1.0, "weight_decay": 0.0},
        "weak_strong",
        views_kwargs={},
        mu=7,
        arg=arg,
    )
    with c.unlocked():
        if smoke:
            c.data.views_kwargs.ops_list = ("Identity", "Rotate")
    c.lock()
    return c
