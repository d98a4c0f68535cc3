"""RotNet rotation prediction (Gidaris et al. 2018) on the built-in digits,
no labels (pre-training for the linear probe / kNN).

Command:
  tfless-train --config=configs/rotation/digits.py --workdir=/tmp/tfless/rotation_digits
  tfless-eval --workdir=/tmp/tfless/rotation_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   2000 steps. Expected: linear probe above the random-init encoder (see
           benchmarks/results/selfsup.md); about 2 minutes on 2 CPU cores.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: all 4 rotations of every image, 4-way classification by a linear head on the encoder
features. The encoder is the supervised baseline's ConvNet (32-64-128), digits resized to
24x24; Adam 2e-3 with cosine decay and 100 warmup steps, batch 64, no augmentation (the pretext
task builds its own inputs in-graph), no labels read.
"""

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
        "rotation",
        {"hidden_dim": 0},
        arg,
        smoke_kwargs={},
    )
