"""PIRL (Misra & van der Maaten 2019) with the jigsaw transform on the built-in digits.

Command:
  tfless-train --config=configs/pirl/digits.py --workdir=/tmp/tfless/pirl_digits
  tfless-eval --workdir=/tmp/tfless/pirl_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   1000 steps at batch 64; benchmarks/results/selfsup.md measures it at 500 steps
           (3 seeds) against the random-init encoder.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: memory bank of every training image (EMA 0.5; ``num_data`` is read from the data:
1,257 digits), 3x3 jigsaw of 24x24 digits (8 px
cells, 7 px tiles), NCE with temperature 0.07, lambda 0.5, 32 negatives (2.5% of the data,
the paper's 32000 / 1.28M ratio), projection 128; random-resized-crop and colour-jitter
augmentation of the image, as in the instance-discrimination methods PIRL builds on (no
flip for digits), here the digits SimCLR views (crop scale 0.3-1, strength 0.5); ConvNet
32-64-128; Adam 2e-3, cosine decay. Data loaded with_index for the bank.

Pad-and-crop alone (the earlier recipe) left the image branch with almost no invariance to
learn: 10-labels-per-class probe 84.6% / kNN 86.9% (seed 0, 500 steps), below random init's
89.8% probe; with these views 90.6% / 87.4% (seed 1: 93.3% / 92.0%, random init 90.4% /
85.0%). 256 negatives instead of 32 changed nothing (85.2% / 86.5%, seed 0).

On MNIST-5k (``benchmarks/selfsup.py --dataset mnist5k``, 500 steps, 3 seeds) this recipe
falls below random init: kNN 58.9% / 10-labels-per-class probe 74.0% vs 71.4% / 76.1%; with
4,000 images each memory-bank entry is refreshed only ~8 times in 500 steps (100 negatives,
seed 0: 57.9% / 73.4%; bank momentum 0: kNN 44.9%).
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
        "digits",
        "pirl",
        {"num_negatives": 32, "temperature": 0.07, "loss_weight": 0.5},
        arg,
        augment="simclr",
        image_size=24,
        batch_size=64,
        steps=1000,
        eval_every=250,
        with_index=True,
    )
