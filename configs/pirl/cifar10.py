"""PIRL (Misra & van der Maaten 2019) hyperparameters on CIFAR-10.

Command:
  tfless-train --config=configs/pirl/cifar10.py --workdir=/tmp/tfless/pirl_cifar10
  tfless-eval --workdir=/tmp/tfless/pirl_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   200 epochs at batch 256 (39,000 steps). Paper (ImageNet, ResNet-50): 63.6% linear
           (REFERENCE_NUMBERS.md). Days on a GPU; not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: the paper's loss settings: temperature 0.07, lambda 0.5, memory-bank EMA
0.5, 128-d; negatives scaled to the paper's ratio (32000 of 1.28M images -> 1250 of 50000);
3x3 jigsaw of 32 px images (10 px cells, 9 px tiles); SGD lr 0.03, momentum 0.9, weight
decay 1e-4, cosine decay (our choice for CIFAR; the paper trains on ImageNet).
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
        "pirl",
        {"num_data": 50000, "num_negatives": 1250, "temperature": 0.07, "loss_weight": 0.5},
        arg,
        augment="flip_crop",
        batch_size=256,
        steps=39000,
        eval_every=3900,
        with_index=True,
        optimizer={"name": "sgd", "learning_rate": 0.03, "weight_decay": 1e-4},
        smoke_kwargs={"num_data": 2000, "num_negatives": 16},
    )
