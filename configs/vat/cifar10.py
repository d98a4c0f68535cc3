"""VAT (Miyato et al. 2018) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/vat/cifar10.py:labels=400 \
      --workdir=/tmp/tfless/vat_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (4 / 25 / 400 for 40 / 250 / 4000 labels; default 400);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: the FixMatch/USB protocol (WRN-28-2, batch 64, mu 7, SGD nesterov 0.03 with
FixMatch's cosine, weight decay 5e-4, 2^20 steps) with eps 6, xi 1e-6, one power iteration
(the paper uses eps 8 on ZCA-whitened CIFAR-10 with augmentation; USB uses 6).

Published test error (shared/REFERENCE_NUMBERS.md): 11.36% with 4000 labels (paper,
ConvLarge); USB classic_cv WRN-28-2 76.42 / 42.58 / 10.97% with 40 / 250 / 4000.
Compute: 2^20 steps; the official FixMatch TF run takes about 4 GPU-days, TorchSSL about 16
h on 4 V100s (FixMatch); not runnable on the 2-core CPU machine (a WRN-28-2 step at batch 64
takes about 1 s on CPU per 64 images). VAT needs 3 passes per unlabeled batch.
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
        "vat",
        {
            "eps": 6.0,
            "xi": 1e-6,
            "num_iterations": 1,
            "alpha": 1.0,
            "entropy_min": False,
            "weight_decay": 5e-4,
        },
        "flip_crop",
        views_kwargs={},
        mu=7,
        arg=arg,
        default_labels=400,
    )
    with c.unlocked():
        pass
    c.lock()
    return c
