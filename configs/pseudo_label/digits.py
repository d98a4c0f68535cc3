"""Pseudo-Label (Lee 2013) on the built-in digits, 4 labels per class.

Command:
  tfless-train --config=configs/pseudo_label/digits.py --workdir=/tmp/tfless/pseudo_label

Args: (none) 4 labels per class; ``labels=N`` N per class; ``smoke`` a few steps.

Recipe: the supervised digits baseline's backbone (convnet 32-64-128, 16x16), optimizer
(Adam 2e-3, cosine, warmup 100, EMA 0.99) and budget (3,000 steps), labeled batch 32,
mu 7, threshold 0.95, alpha_f 3 ramped from 10% to 60% of training (Lee's T1/T2 of
100/600 of ~1000 epochs).

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
        "pseudo_label",
        {
            "threshold": 0.95,
            "alpha_f": 3.0,
            "rampup_start": 300,
            "rampup_end": 1800,
            "weight_decay": 0.0,
        },
        "flip_crop",
        views_kwargs={},
        mu=7,
        arg=arg,
    )
    with c.unlocked():
        c.method.kwargs.rampup_start = c.train.steps // 10
        c.method.kwargs.rampup_end = c.train.steps * 6 // 10
        if smoke:
            c.method.kwargs.rampup_start, c.method.kwargs.rampup_end = 0, 2
    c.lock()
    return c
