"""Baseline (Chen et al. 2019, "A Closer Look at Few-shot Classification", arXiv:1904.04232)
on Omniglot.

Command:
  tfless-train --config=configs/baseline/omniglot.py:5way1shot \
    --workdir=/tmp/tfless/baseline_omniglot

Args (after the colon, comma-separated): ``5way1shot`` (default), ``5way5shot``,
``20way1shot``, ``20way5shot`` (the test episodes); ``smoke`` (2 steps on the built-in
glyphs, seconds: a test has no Omniglot).

Data: TFDS ``omniglot`` (prepared beforehand), the Vinyals class split at 28x28x1:
pre-training on the 1,028 training characters, test episodes on the 423 test characters.

Metric: N-way K-shot accuracy on the evaluation characters, 600 episodes of 15 queries per
class, 95% confidence interval. Not measured here (no Omniglot on this machine); the paper
reports no Omniglot table for this setting.

Recipe (the authors' code, Omniglot setting): Conv-4 (64 filters) and a linear classifier, batches
of 16, Adam 1e-3, 5 epochs of the background set (1,028 x 20 = 20,560 images, 1,285
steps of 16 per epoch: 6,425 steps). Test: a new linear head on frozen features, 100 epochs of
batches of 4, SGD 0.01, momentum 0.9, dampening 0.9, weight decay 1e-3.
"""

from tfless.configs import common, fewshot

SETTINGS = ("5way1shot", "5way5shot", "20way1shot", "20way5shot")


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg, allowed=SETTINGS)
    c = fewshot.fewshot_config(
        "baseline", {}, ways=ways, shots=shots, episode_stream=False, dataset="omniglot"
    )
    c.data.batch_size = 16
    c.train.steps = 6425
    c.train.eval_every = 1285
    if smoke:
        fewshot.offline_smoke(c)
    return common.locked(c)
