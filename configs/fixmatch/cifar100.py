"""FixMatch (Sohn et al. 2020) on CIFAR-100: the paper's recipe.

Command (needs CIFAR-100 prepared for TFDS, and accelerators):
  tfless-train --config=configs/fixmatch/cifar100.py:labels=25 \
      --workdir=/tmp/tfless/fixmatch_cifar100 --strategy=mirrored

Args: ``labels=N`` labels per class (4 / 25 / 100 for 400 / 2500 / 10000 labels; default 25);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: WRN-28-8, labeled batch 64, mu 7, threshold 0.95, lambda_u 1, RandAugment, SGD
nesterov 0.9, lr 0.03 with FixMatch's cosine, coupled weight decay 1e-3, EMA 0.999, 2^20
steps.

Published test error (shared/REFERENCE_NUMBERS.md): 48.85 / 28.29 / 22.60% with 400 / 2500 /
10000 labels (paper, RA).
Compute: 2^20 steps of WRN-28-8 (about 4x the FLOPs of WRN-28-2): days on several GPUs; not
runnable on the 2-core CPU machine.
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
        "cifar100",
        "fixmatch",
        {"threshold": 0.95, "lambda_u": 1.0, "weight_decay": 1e-3},
        "weak_strong",
        views_kwargs={},
        mu=7,
        arg=arg,
        default_labels=25,
    )
    with c.unlocked():
        if smoke:
            c.data.views_kwargs.ops_list = ("Identity", "Rotate")
    c.lock()
    return c
