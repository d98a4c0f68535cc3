"""MixMatch (Berthelot et al. 2019) on the built-in digits, 4 labels per class.

Command:
  tfless-train --config=configs/mixmatch/digits.py --workdir=/tmp/tfless/mixmatch

Args: (none) 4 labels per class; ``labels=N`` N per class; ``smoke`` a few steps.

Recipe: the supervised digits baseline's backbone (convnet 32-64-128, 16x16), optimizer
(Adam 2e-3, cosine, warmup 100, EMA 0.99) and budget (3,000 steps), labeled batch 32,
mu 1, K 2, T 0.5, alpha 0.75, lambda_u 75 ramped linearly over the first third.

Expected: above the labeled-only baseline (supervised ``:labeled``, about 80-85% test
accuracy) and below all labels (about 98%); benchmarks/semi.py measures it (results in
benchmarks/results/semi.md when run).
Compute (2 CPU cores): a few minutes.
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
        "mixmatch",
        {
            "temperature": 0.5,
            "alpha": 0.75,
            "lambda_u": 75.0,
            "rampup_steps": 1000,
            "weight_decay": 0.0,
        },
        "multi_weak",
        views_kwargs={"k": 2},
        mu=1,
        arg=arg,
    )
    with c.unlocked():
        c.method.kwargs.rampup_steps = c.train.steps // 3
        if smoke:
            c.method.kwargs.rampup_steps = 2
    c.lock()
    return c
