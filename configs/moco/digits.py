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

from tfless.configs import common, contrastive


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = contrastive.contrastive_config(
        "moco",
        {"version": 2, "queue_size": 4096, "momentum": 0.99, "temperature": 0.2},
        augment="simclr",
        augment_kwargs=contrastive.DIGITS_SIMCLR_VIEWS,
        batch_size=128,
        steps=2000,
        eval_every=500,
    )
    if smoke:
        common.digits_smoke(c, batch_size=16)
        c.method.kwargs.queue_size = 64
    return common.locked(c)
