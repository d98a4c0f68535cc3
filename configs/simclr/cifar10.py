"""SimCLR (Chen et al. 2020, Appendix B.9) on CIFAR-10: the paper's CIFAR recipe.

Command:
  tfless-train --config=configs/simclr/cifar10.py --workdir=/tmp/tfless/simclr_cifar10
  tfless-eval --workdir=/tmp/tfless/simclr_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   the paper's schedule: 1000 epochs at batch 1024 (48,800 steps), ResNet (CIFAR stem).
           Paper: ResNet-50 linear eval 94.0% (REFERENCE_NUMBERS.md); solo-learn ResNet-18
           1000 epochs 90.74%. Days on a GPU; not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: NT-Xent temperature 0.5, projection 2048-2048-128 (hidden = feature size),
LARS learning rate 1.0 * batch / 256 = 4.0 at batch 1024 (the paper's best CIFAR setting,
B.9), weight decay 1e-6, momentum 0.9, 10 warmup epochs then cosine decay; augmentation:
random resized crop + flip + colour jitter strength 0.5, no blur (Appendix B.9).
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
        "simclr",
        {"projection_dim": 128, "temperature": 0.5},
        arg,
        augment="simclr",
        augment_kwargs={"strength": 0.5, "blur": False},
        batch_size=1024,
        steps=48800,
        eval_every=4880,
        optimizer={"name": "lars", "learning_rate": 4.0, "warmup_steps": 490, "weight_decay": 1e-6},
    )
