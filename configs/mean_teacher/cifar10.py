"""Mean Teacher (Tarvainen & Valpola 2017) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/mean_teacher/cifar10.py:labels=400 \
      --workdir=/tmp/tfless/mean_teacher_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (400 for the paper's 4000 labels; default 400);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: the FixMatch/USB protocol (WRN-28-2, batch 64, mu 7, SGD nesterov 0.03 with
FixMatch's cosine, weight decay 5e-4, 2^20 steps) with Mean Teacher's loss: consistency
weight 100 (MSE on softmax averaged over classes), sigmoid ramp-up over 40,000 steps,
teacher EMA 0.99 during the ramp-up and 0.999 after.

Published test error (shared/REFERENCE_NUMBERS.md): 12.31% with 4000 labels (paper,
ConvLarge); USB classic_cv WRN-28-2 76.93 / 56.06 / 15.47% with 40 / 250 / 4000.
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
        "mean_teacher",
        {
            "consistency_weight": 100.0,
            "rampup_steps": 40000,
            "ema_decay": 0.999,
            "ema_decay_rampup": 0.99,
            "weight_decay": 5e-4,
        },
        "multi_weak",
        views_kwargs={"k": 2},
        mu=7,
        arg=arg,
        default_labels=400,
    )
    with c.unlocked():
        if smoke:
            c.method.kwargs.rampup_steps = 2
    c.lock()
    return c
