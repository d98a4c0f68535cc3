"""FixMatch (Sohn et al. 2020) on SVHN: the paper's recipe.

Command (needs SVHN prepared for TFDS, and accelerators):
  tfless-train --config=configs/fixmatch/svhn.py:labels=25 \
      --workdir=/tmp/tfless/fixmatch_svhn --strategy=mirrored

Args: ``labels=N`` labels per class (4 / 25 / 100 for 40 / 250 / 1000 labels; default 25);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: WRN-28-2 on svhn_cropped (train split; no flips), labeled batch 64, mu 7, threshold
0.95, lambda_u 1, RandAugment, SGD nesterov 0.9, lr 0.03 with FixMatch's cosine, coupled
weight decay 5e-4, EMA 0.999, 2^20 steps.

Published test error (shared/REFERENCE_NUMBERS.md): 3.96 / 2.48 / 2.28% with 40 / 250 / 1000
labels (paper, RA).
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
        "svhn_cropped",
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
