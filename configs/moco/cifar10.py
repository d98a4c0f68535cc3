"""MoCo v2 (Chen, Fan, Girshick & He 2020) hyperparameters on CIFAR-10.

Command:
  tfless-train --config=configs/moco/cifar10.py --workdir=/tmp/tfless/moco_cifar10
  tfless-eval --workdir=/tmp/tfless/moco_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   200 epochs at batch 256 (39,000 steps). Paper (ImageNet, ResNet-50, 200 epochs):
           67.5% linear; solo-learn CIFAR-10 ResNet-18 MoCo v2+ 92.94% (REFERENCE_NUMBERS.md).
           Days on a GPU; not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: the paper's: K = 65536 (a multiple of 256), m = 0.999, temperature 0.2, MLP
head, SGD lr 0.03 * batch / 256 = 0.03, momentum 0.9, weight decay 1e-4, cosine decay;
SimCLR-style augmentation with blur (MoCo v2, Sec. 2).
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
        "moco",
        {"version": 2, "queue_size": 65536, "momentum": 0.999, "temperature": 0.2},
        arg,
        augment="simclr",
        augment_kwargs={"strength": 1.0, "blur": True},
        batch_size=256,
        steps=39000,
        eval_every=3900,
        optimizer={"name": "sgd", "learning_rate": 0.03, "weight_decay": 1e-4},
        smoke_kwargs={"queue_size": 64},
    )
