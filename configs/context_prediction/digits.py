"""Context prediction (Doersch et al. 2015) on the built-in digits,
no labels (pre-training for the linear probe / kNN).

Command:
  tfless-train --config=configs/context_prediction/digits.py \
      --workdir=/tmp/tfless/context_prediction_digits
  tfless-eval \
      --workdir=/tmp/tfless/context_prediction_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   2000 steps. Measured in benchmarks/results/selfsup.md (500 steps, 3 seeds):
           kNN just above the random-init encoder, the 10-labels/class probe below it
           (89.6% vs 90.4%; at 2000 steps, seed 0: 86.7%); about 2 minutes on 2 CPU cores.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: center patch + one of 8 neighbours (largest patch that fits: 5 px at 24x24, gap 2, no
jitter at this size), 8-way classification; fc7 shrunk to 512 units, no per-patch fc6 (with a
256-unit fc6 and pad-and-crop: kNN 79.6% / 10-labels-per-class probe 87.2%, seed 0, worse). The
encoder is the supervised baseline's ConvNet (32-64-128), digits resized to 24x24; Adam 2e-3
with cosine decay and 100 warmup steps, batch 64, no augmentation (the pretext task builds its
own inputs in-graph), no labels read."""

from tfless.configs import common, pretext


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = pretext.pretext_config(
        "context_prediction",
        {
            "patch_size": None,
            "gap_ratio": 0.5,
            "jitter_ratio": 7 / 96,
            "aberration": "color_drop",
            "hidden_dim": 512,
            "patch_dim": 0,
        },
    )
    if smoke:
        common.digits_smoke(c, batch_size=16)
        c.method.kwargs.hidden_dim = 32
    return common.locked(c)
