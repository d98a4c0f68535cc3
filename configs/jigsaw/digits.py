"""Jigsaw puzzles (Noroozi & Favaro 2016) on the built-in digits,
no labels (pre-training for the linear probe / kNN).

Command:
  tfless-train --config=configs/jigsaw/digits.py --workdir=/tmp/tfless/jigsaw_digits
  tfless-eval --workdir=/tmp/tfless/jigsaw_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   2000 steps. benchmarks/results/selfsup.md measures it at 500 steps (3 seeds)
           against the random-init encoder; about 2 minutes on 2 CPU cores.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: 3x3 grid of 8-pixel cells, 7-pixel jittered tiles, 100 maximal-Hamming permutations,
siamese encoder on the tiles, each tile with its own contrast and brightness jitter of
strength 0.4 in training (``tile_jitter``; the paper normalises every tile for the same
purpose); fc7 shrunk from 4096 to 512 units for this small encoder, no per-tile fc6. The
encoder is the supervised baseline's ConvNet (32-64-128), digits resized to 24x24; Adam 2e-3
with cosine decay and 100 warmup steps, batch 64, no augmentation of whole images, no labels
read.

Measured at 500 steps (kNN / 10-labels-per-class probe; random init seed 0: 82.6 / 89.8,
seed 1: 85.0 / 90.4): without the tile jitter, seed 0: 79.6 / 88.1; with it, seed 0:
84.1 / 87.6, seed 1: 84.8 / 89.8; jitter 0.8, seed 0: 83.7 / 89.3. A 256-unit fc6 with
pad-and-crop (no jitter): 80.4 / 87.2; a 2x2 grid: 75.7 / 89.1.
"""

from tfless.configs import common, pretext


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = pretext.pretext_config(
        "jigsaw",
        {
            "num_permutations": 100,
            "grid": 3,
            "tile_fraction": 64 / 75,
            "hidden_dim": 512,
            "tile_dim": 0,
            "tile_jitter": 0.4,
        },
    )
    if smoke:
        common.digits_smoke(c, batch_size=16)
        c.method.kwargs.hidden_dim = 32
    return common.locked(c)
