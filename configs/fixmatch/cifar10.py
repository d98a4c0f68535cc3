"""FixMatch (Sohn et al. 2020) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/fixmatch/cifar10.py:labels=25 \
      --workdir=/tmp/tfless/fixmatch_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (4 / 25 / 400 for 40 / 250 / 4000 labels; default 25);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: WRN-28-2, labeled batch 64, mu 7, threshold 0.95, lambda_u 1, RandAugment
(weak_strong views), SGD nesterov 0.9, lr 0.03 with lr cos(7 pi k / 16K), coupled weight
decay 5e-4, EMA 0.999 for evaluation, 2^20 steps.

Published test error (shared/REFERENCE_NUMBERS.md): 13.81 / 5.07 / 4.26% with 40 / 250 /
4000 labels (paper, RA); USB classic_cv 8.33 / 4.97 / 4.29%.
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
        "fixmatch",
        {"threshold": 0.95, "lambda_u": 1.0, "weight_decay": 5e-4},
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
