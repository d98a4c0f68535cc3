"""Label propagation (Iscen et al. 2019) on the built-in digits, 4 labels per class.

Command:
  tfless-train --config=configs/label_propagation/digits.py --workdir=/tmp/tfless/label_propagation

Args: (none) 4 labels per class; ``labels=N`` N per class; ``smoke`` a few steps.

Recipe: the supervised digits baseline's backbone (convnet 32-64-128, 16x16), optimizer
(Adam 2e-3, cosine, warmup 100, EMA 0.99) and budget (3,000 steps), labeled batch 32,
mu 1, kNN graph k 50, alpha 0.99, gamma 3, CG 20 iterations; the diffusion runs after
every evaluation epoch (``train.eval_every`` steps), the first epoch trains on labels only.

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
        "label_propagation",
        {
            "num_examples": 1257,
            "k": 50,
            "alpha": 0.99,
            "gamma": 3.0,
            "max_iterations": 20,
            "weight_decay": 0.0,
        },
        "flip_crop",
        views_kwargs={},
        mu=1,
        arg=arg,
        with_index=True,
    )
    c.lock()
    return c
