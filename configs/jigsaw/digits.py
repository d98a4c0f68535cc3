"""Jigsaw puzzles (Noroozi & Favaro 2016) on the built-in digits,
no labels (pre-training for the linear probe / kNN).

Command:
  tfless-train --config=configs/jigsaw/digits.py --workdir=/tmp/tfless/jigsaw_digits
  tfless-eval --workdir=/tmp/tfless/jigsaw_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   2000 steps. Measured in benchmarks/results/selfsup.md (500 steps, 3 seeds):
           it does not beat the random-init encoder on digits (10 labels/class 88.8% vs
           90.4%; at 2000 steps, seed 0: 88.7%); about 2 minutes on 2 CPU cores.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: 3x3 grid of 8-pixel cells, 7-pixel jittered tiles, 100 maximal-Hamming permutations,
siamese encoder on the tiles; fc7 shrunk from 4096 to 512 units for this small encoder, no
per-tile fc6 (with a 256-unit fc6 and pad-and-crop: kNN 80.4% / 10-labels-per-class probe
87.2%, seed 0, no better). The
encoder is the supervised baseline's ConvNet (32-64-128), digits resized to 24x24; Adam 2e-3
with cosine decay and 100 warmup steps, batch 64, no augmentation (the pretext task builds its
own inputs in-graph), no labels read."""

import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "_pretext_base",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_pretext_base.py"),
)
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)


def get_config(arg: str | None = None):
    return _base.pretext_config(
        "jigsaw",
        {
            "num_permutations": 100,
            "grid": 3,
            "tile_fraction": 64 / 75,
            "hidden_dim": 512,
            "tile_dim": 0,
        },
        arg,
        smoke_kwargs={"hidden_dim": 32},
    )
