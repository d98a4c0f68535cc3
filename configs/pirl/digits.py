"""PIRL (Misra & van der Maaten 2019) with the jigsaw transform on the built-in digits.

Command:
  tfless-train --config=configs/pirl/digits.py --workdir=/tmp/tfless/pirl_digits
  tfless-eval --workdir=/tmp/tfless/pirl_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   1000 steps at batch 256; benchmarks/results/selfsup*.md measure it at 500 steps
           (3 seeds) against the random-init encoder.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: memory bank of every training image (EMA 0.5; ``num_data`` is read from the data:
1,257 digits, 4,000 MNIST-5k images), 3x3 jigsaw (8 px cells, 7 px tiles at 24 px), NCE with
temperature 0.07, lambda 0.5, 32 negatives (2.5% of the data, the paper's 32000 / 1.28M
ratio), projection 128; random-resized-crop and colour-jitter augmentation of the image, as
in the instance-discrimination methods PIRL builds on (no flip for digits), here the digits
SimCLR views (crop scale 0.3-1, strength 0.5); ConvNet 32-64-128; Adam 2e-3, cosine decay.
Data loaded with_index for the bank.

Batch 256 (the paper's is 1024): a memory-bank entry is refreshed once per epoch, so the
bank needs passes over the data more than it needs steps. On MNIST-5k (seed 0, 500 steps,
``--dataset mnist5k``; random init: kNN 71.4% / 10-labels-per-class probe 76.1%) kNN was
57.9% at batch 64 (8 epochs), 68.2% at 128 and 82.5% at 256 (32 epochs; probe 74.1%, 76.7%,
83.8%). At batch 64 kNN first falls (46.4% after 100 steps) and only climbs past random
init with more epochs (84.9% after 2000 steps). Not the cause, at batch 64 (seed 0): the
NCE loss (a softmax InfoNCE over the same negatives: 53.5%), the linear heads (2-layer MLP
heads: 49.3%), the random bank initialization (a row set to the example's first
representation: 53.1%), lambda (0: 55.6%, 1: 58.5%), temperature 0.2 (57.1%), bank
momentum 0 (44.9%), 100 negatives (57.9%). On digits batch 256 is 100 epochs in 500 steps
and costs kNN (3 seeds: 83.8% vs 90.6% at batch 64; random init 83.3%) while the
10-labels-per-class probe holds (92.8% vs 92.5%; random init 90.4%); one recipe serves both.

Pad-and-crop alone (an earlier recipe) left the image branch with almost no invariance to
learn on digits: 10-labels-per-class probe 84.6% / kNN 86.9% (seed 0, 500 steps), below
random init's 89.8% probe.
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
        batch_size=256,
        steps=1000,
        eval_every=250,
        with_index=True,
    )
