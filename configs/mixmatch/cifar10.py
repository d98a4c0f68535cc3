"""MixMatch (Berthelot et al. 2019) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/mixmatch/cifar10.py:labels=25 \
      --workdir=/tmp/tfless/mixmatch_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (25 / 400 for 250 / 4000 labels; default 25);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: WRN-28-2, labeled batch 64, unlabeled batch 64 (mu 1) with K 2 views, T 0.5, alpha
0.75, lambda_u 75 ramped linearly over 16,000 steps, Adam lr 0.002, decoupled weight decay
0.02 (times the lr), EMA 0.999, 2^20 steps.

Published test error (shared/REFERENCE_NUMBERS.md): 11.08 / 6.24% with 250 / 4000 labels
(paper); USB classic_cv 70.67 / 37.28 / 7.38% with 40 / 250 / 4000.
Compute: 2^20 steps; the official FixMatch TF run takes about 4 GPU-days, TorchSSL about 16
h on 4 V100s (FixMatch); not runnable on the 2-core CPU machine (a WRN-28-2 step at batch 64
takes about 1 s on CPU per 64 images).
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
        "cifar10",
        "mixmatch",
        {
            "temperature": 0.5,
            "alpha": 0.75,
            "lambda_u": 75.0,
            "rampup_steps": 16000,
            "weight_decay": 0.0,
        },
        "multi_weak",
        views_kwargs={"k": 2},
        mu=1,
        arg=arg,
        default_labels=25,
    )
    with c.unlocked():
        c.optimizer.name = "adam"
        c.optimizer.learning_rate = 0.002
        c.optimizer.schedule = "constant"
        c.optimizer.nesterov = False
        c.optimizer.weight_decay = 0.02
        if smoke:
            c.method.kwargs.rampup_steps = 2
    c.lock()
    return c
