"""Pseudo-Label (Lee 2013) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/pseudo_label/cifar10.py:labels=400 \
      --workdir=/tmp/tfless/pseudo_label_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (4 / 25 / 400 for 40 / 250 / 4000 labels; default 400);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: the FixMatch/USB protocol (WRN-28-2, batch 64, mu 7, SGD nesterov 0.03 with
FixMatch's cosine, weight decay 5e-4, 2^20 steps) with USB's Pseudo-Label settings:
threshold 0.95, weight 1 ramped linearly over the first 40% of training.

Published test error (shared/REFERENCE_NUMBERS.md): 17.78% with 4000 labels (Oliver et al.
2018's re-implementation); USB classic_cv 76.29 / 48.28 / 14.9% with 40 / 250 / 4000.
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
        "pseudo_label",
        {
            "threshold": 0.95,
            "alpha_f": 1.0,
            "rampup_start": 0,
            "rampup_end": 419430,
            "weight_decay": 5e-4,
        },
        "flip_crop",
        views_kwargs={},
        mu=7,
        arg=arg,
        default_labels=400,
    )
    with c.unlocked():
        if smoke:
            c.method.kwargs.rampup_start, c.method.kwargs.rampup_end = 0, 2
    c.lock()
    return c
