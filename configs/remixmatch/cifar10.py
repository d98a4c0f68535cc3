"""ReMixMatch (Berthelot et al. 2020) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/remixmatch/cifar10.py:labels=25 \
      --workdir=/tmp/tfless/remixmatch_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (4 / 25 / 400 for 40 / 250 / 4000 labels; default 25);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: WRN-28-2, labeled batch 64, unlabeled batch 64, K 8 CTAugment views (in-graph),
distribution alignment, lambdas 1.5 / 0.5 / 0.5 (match / anchor / rotation), unlabeled terms
ramped over 16,384 steps (1024 kimg), Adam lr 0.002, decoupled weight decay 0.02, EMA 0.999,
2^20 steps.

Published test error (shared/REFERENCE_NUMBERS.md): 6.27 / 5.14% with 250 / 4000 labels
(paper); USB classic_cv 14.5 / 9.21 / 4.88% with 40 / 250 / 4000.
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
        "remixmatch",
        {
            "num_strong": 8,
            "lambda_u": 1.5,
            "lambda_u1": 0.5,
            "lambda_r": 0.5,
            "rampup_steps": 16384,
            "view_key": "image",
            "cta_ops": None,
            "weight_decay": 0.0,
        },
        "flip_crop",
        views_kwargs={},
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
            c.method.kwargs.num_strong = 2
            c.method.kwargs.cta_ops = ("Identity", "Rotate")
    c.lock()
    return c
