"""Colorful image colorization (Zhang et al. 2016) on the built-in digits,
no labels (pre-training for the linear probe / kNN).

Command:
  tfless-train --config=configs/colorization/digits.py \
      --workdir=/tmp/tfless/colorization_digits
  tfless-eval --workdir=/tmp/tfless/colorization_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   2000 steps. A plumbing check on grayscale digits (nothing to predict, see
           below); benchmarks/results/selfsup.md marks it n/a; about 2 minutes.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: L in, 261 ab bins out at 1/4 resolution, rebalancing lambda 0.5, annealed mean T 0.38.
Digits are grayscale, so every target is the a = b = 0 bin and the task is degenerate: this
config is a plumbing check and a baseline, use a colour dataset (e.g. cifar10) for real
colorization. The encoder is the supervised baseline's ConvNet (32-64-128), digits resized to
24x24; Adam 2e-3 with cosine decay and 100 warmup steps, batch 64, no augmentation (the pretext
task builds its own inputs in-graph), no labels read.
"""

from tfless.configs import common, pretext


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = pretext.pretext_config(
        "colorization",
        {"output_stride": 4, "rebalance_lambda": 0.5, "temperature": 0.38, "decoder_width": 64},
    )
    if smoke:
        common.digits_smoke(c, batch_size=16)
        c.method.kwargs.decoder_width = 8
    return common.locked(c)
