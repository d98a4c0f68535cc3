"""CPC v2 (Henaff et al. 2019) scaled to CIFAR-10.

Command:
  tfless-train --config=configs/cpc/cifar10.py --workdir=/tmp/tfless/cpc_cifar10
  tfless-eval --workdir=/tmp/tfless/cpc_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   200 epochs at batch 256 (39,000 steps). Paper (ImageNet, ResNet-161): 71.5% linear;
           CPC v2 ResNet-50 63.8% (REFERENCE_NUMBERS.md). Not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: the paper's grid geometry at CIFAR scale: a 7x7 grid of 8 px patches at stride
4 (the paper: 7x7 of 64 px at stride 32), predictions up to 5 rows ahead (van den Oord et al.
2018), masked residual context network; Adam 2e-4 (the paper's optimizer; our choice of
rate), flip-and-crop views. CPC v2 uses layer norm in the encoder: pass a backbone without
batch norm for a faithful run. Evaluation and export read the paper's features: the encoder
over the patch grid, mean-pooled (``eval_features="patch_grid"``, the default).
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
        "cpc",
        {"patch_size": 8, "patch_stride": 4, "prediction_steps": 5, "context_layers": 5},
        arg,
        augment="flip_crop",
        batch_size=256,
        steps=39000,
        eval_every=3900,
        optimizer={"name": "adam", "learning_rate": 2e-4},
        smoke_kwargs={"prediction_steps": 2, "context_layers": 1},
        smoke_batch_size=8,
    )
