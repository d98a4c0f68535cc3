"""AMDIM (Bachman et al. 2019) on the built-in digits, no labels.

Command:
  tfless-train --config=configs/amdim/digits.py --workdir=/tmp/tfless/amdim_digits
  tfless-eval --workdir=/tmp/tfless/amdim_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   1000 steps at batch 64. Not measured end to end yet (a 2000-step, batch-128
           run ran at ~4 s/step on shared cores and was stopped); the unit test shows all
           three NCE terms falling on digits. Expected: kNN above the random-init encoder.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: two SimCLR-style views, global (pooled 4x4 map) vs final 4x4 and middle 8x8
local features of the ConvNet 32-64-128 on 16x16 digits, embeddings of 128, NCE 1-5/1-7/5-5
both ways, tanh clip 20, score penalty 5e-2; Adam 2e-3, cosine decay.
"""

from tfless.configs import common, contrastive


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = contrastive.contrastive_config(
        "amdim",
        {"embedding_dim": 128, "clip": 20.0, "reg_weight": 0.05},
        augment="simclr",
        augment_kwargs=contrastive.DIGITS_SIMCLR_VIEWS,
        batch_size=64,
        steps=1000,
        eval_every=250,
    )
    if smoke:
        common.digits_smoke(c, batch_size=16)
        c.method.kwargs.embedding_dim = 16
    return common.locked(c)
