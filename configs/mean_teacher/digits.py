"""Mean Teacher (Tarvainen & Valpola 2017) on the built-in digits, 4 labels per class.

Command:
  tfless-train --config=configs/mean_teacher/digits.py --workdir=/tmp/tfless/mean_teacher

Args: (none) 4 labels per class; ``labels=N`` N per class; ``smoke`` a few steps.

Recipe: the supervised digits baseline's backbone (convnet 32-64-128, 16x16), optimizer
(Adam 2e-3, cosine, warmup 100, EMA 0.99) and budget (3,000 steps), labeled batch 32,
mu 7, two weak views (student / teacher), consistency weight 100 with the sigmoid
ramp-up over the first third, teacher EMA 0.99. The paper's 0.999 after the ramp-up
averages over ~1,000 steps, a third of this whole budget: the teacher then lags the
student (86.7% at 1,000 steps, about the labeled-only baseline); 0.99 throughout
reached 92.4% (1,000 steps, labeled batch 16, seed 0).

The teacher normalizes with batch statistics, as in the authors' code; a Keras-frozen
teacher using moving statistics collapsed the student (13-14% test accuracy).
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
        "mean_teacher",
        {
            "consistency_weight": 100.0,
            "rampup_steps": 1000,
            "ema_decay": 0.99,
            "ema_decay_rampup": 0.99,
            "weight_decay": 0.0,
        },
        "multi_weak",
        views_kwargs={"k": 2},
        mu=7,
        arg=arg,
    )
    with c.unlocked():
        c.method.kwargs.rampup_steps = c.train.steps // 3
        if smoke:
            c.method.kwargs.rampup_steps = 2
    c.lock()
    return c
