"""CPC v2 (Henaff et al. 2019) on the built-in digits, no labels.

Command:
  tfless-train --config=configs/cpc/digits.py --workdir=/tmp/tfless/cpc_digits
  tfless-eval --workdir=/tmp/tfless/cpc_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   600 steps at batch 32 (every step encodes 800 patches). Not measured end to end
           yet (batch 128 ran at ~3 s/step on shared cores); the unit test shows the loss
           falling on digits. Expected: kNN above the random-init encoder.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: 24x24 digits cut into a 5x5 grid of 8 px patches at stride 4 (half-overlapping,
as the paper's 64 px patches at stride 32), masked context network of 2 residual blocks,
InfoNCE predicting 2 rows ahead among all patches of the batch; ConvNet 32-64-128 as the
patch encoder; pad-and-crop views; Adam 2e-3, cosine decay.
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
        "cpc",
        {"patch_size": 8, "patch_stride": 4, "prediction_steps": 2, "context_layers": 2},
        arg,
        augment="flip_crop",
        image_size=24,
        batch_size=32,
        steps=600,
        eval_every=150,
    )
