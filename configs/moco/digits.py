"""MoCo v2 (Chen et al. 2020) on the built-in digits, no labels.

Command:
  tfless-train --config=configs/moco/digits.py --workdir=/tmp/tfless/moco_digits
  tfless-eval --workdir=/tmp/tfless/moco_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   2000 steps at batch 128. Measured (seed 0, 2026-11-23): kNN 92.6%, linear probe
           99.8% on the test split, vs 79.3% / 98.5% for the same encoder at random init;
           5 minutes on 2 shared CPU cores.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: MoCo v2: MLP head, temperature 0.2, queue of 4096 keys (32 batches; the
paper's 65536 is 52x the 1,257 digits), key-encoder momentum 0.99 instead of 0.999 so the
key encoder keeps up within a 2000-step run; SimCLR-style views as for SimCLR; ConvNet
32-64-128 on 16x16 digits; Adam 2e-3, cosine decay.
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
        "moco",
        {"version": 2, "queue_size": 4096, "momentum": 0.99, "temperature": 0.2},
        arg,
        augment="simclr",
        batch_size=128,
        steps=2000,
        eval_every=500,
        smoke_kwargs={"queue_size": 64},
    )
