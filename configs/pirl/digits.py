"""PIRL (Misra & van der Maaten 2019) with the jigsaw transform on the built-in digits.

Command:
  tfless-train --config=configs/pirl/digits.py --workdir=/tmp/tfless/pirl_digits
  tfless-eval --workdir=/tmp/tfless/pirl_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   1000 steps at batch 64. Measured (seed 0, 2026-11-23): kNN 81.1%, linear probe
           98.1%, vs 80.4% / 98.0% for the same encoder at random init (barely better: the
           tiles share the encoder's batch-norm statistics with the full images, see the
           PIRL docstring); 6 minutes on 2 shared CPU cores.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: memory bank of all 1,257 digits (EMA 0.5), 3x3 jigsaw of 24x24 digits (8 px
cells, 7 px tiles), NCE with temperature 0.07, lambda 0.5, 32 negatives (2.5% of the data,
the paper's 32000 / 1.28M ratio), projection 128; pad-and-crop views, no flip; ConvNet
32-64-128; Adam 2e-3, cosine decay. Data loaded with_index for the bank.
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
        {"num_data": 1257, "num_negatives": 32, "temperature": 0.07, "loss_weight": 0.5},
        arg,
        augment="flip_crop",
        image_size=24,
        batch_size=64,
        steps=1000,
        eval_every=250,
        with_index=True,
    )
