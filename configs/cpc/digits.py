"""CPC v2 (Henaff et al. 2019) on the built-in digits, no labels.

Command:
  tfless-train --config=configs/cpc/digits.py --workdir=/tmp/tfless/cpc_digits
  tfless-eval --workdir=/tmp/tfless/cpc_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   600 steps at batch 32 (every step encodes 800 patches). At 500 steps the
           benchmark (benchmarks/results/selfsup.md, 3 seeds) measures it against the
           random-init encoder; it does not beat it there (see below).
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: 24x24 digits cut into a 5x5 grid of 8 px patches at stride 4 (half-overlapping,
as the paper's 64 px patches at stride 32), masked context network of 2 residual blocks,
InfoNCE predicting 2 rows ahead among all patches of the batch; ConvNet 32-64-128 as the
patch encoder; pad-and-crop views and, per patch, an independent contrast and brightness
jitter of strength 0.4 (CPC v2's patch-wise augmentation, grayscale version); Adam 2e-3,
cosine decay.

The patch jitter is what lifts CPC above the random-init encoder on digits (its purpose in
CPC v2: the prediction must not succeed on low-level cues that neighbouring, here
half-overlapping, patches share). Per seed
0 / 1 / 2 at 500 steps (kNN, 10-labels-per-class probe): without 79.3 / 82.8 / 84.6 and
90.7 / 88.9 / 89.8; with 82.8 / 85.0 / 86.5 and 92.0 / 92.6 / 89.3; random init 82.6 / 85.0
/ 82.4 and 89.8 / 90.4 / 91.1. SimCLR's multiplicative colour jitter per patch (strength
0.5) did not help (81.1 / 81.1 kNN, seeds 0 / 1): it leaves a blank background blank.

Evaluated on whole images (``eval_features="image"``), not the paper's mean over the patch
grid: an 8 px patch holds about 3x3 source pixels, and averaging 25 of them loses where the
strokes are. Seed 0, 500 steps: patch grid kNN 66.3% / 10-labels-per-class probe 80.6%,
whole image 79.3% / 90.7% (both without the patch jitter). Variants measured the same way
and not adopted: layer norm instead of batch norm (CPC v2) 70.6 / 90.2; all four
prediction directions 80.2 / 90.9.
"""

from tfless.configs import common, contrastive


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = contrastive.contrastive_config(
        "cpc",
        {
            "patch_size": 8,
            "patch_stride": 4,
            "prediction_steps": 2,
            "context_layers": 2,
            "eval_features": "image",
            "patch_jitter": 0.4,
        },
        augment="flip_crop",
        augment_kwargs=common.DIGITS_CROP,
        image_size=24,
        batch_size=32,
        steps=600,
        eval_every=150,
    )
    if smoke:
        common.digits_smoke(c, batch_size=16)
    return common.locked(c)
