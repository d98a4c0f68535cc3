"""AMDIM (Bachman, Hjelm & Buchwalter 2019) CIFAR-10 settings.

Command:
  tfless-train --config=configs/amdim/cifar10.py --workdir=/tmp/tfless/amdim_cifar10
  tfless-eval --workdir=/tmp/tfless/amdim_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   150 epochs at batch 200 (37,500 steps). Paper: 91.2% linear on CIFAR-10 with its own
           encoder; ResNet-18 here. Not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: embedding (n_rkhs) 1024, tanh clip 20, score penalty 5e-2, Adam 2e-4 at batch
200 (the authors' CIFAR-10 command line); SimCLR-style views standing in for the paper's
random resized crop + colour jitter + grayscale.
"""

import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "_contrastive_base",
    os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_contrastive_base.py"
    ),
)
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)


def get_config(arg: str | None = None):
    return _base.contrastive_config(
        "cifar10",
        "amdim",
        {"embedding_dim": 1024, "clip": 20.0, "reg_weight": 0.05},
        arg,
        augment="simclr",
        augment_kwargs={"strength": 0.5, "blur": False},
        batch_size=200,
        steps=37500,
        eval_every=3750,
        optimizer={"name": "adam", "learning_rate": 2e-4},
        smoke_kwargs={"embedding_dim": 16},
        smoke_widths=(8, 16, 16),
    )
