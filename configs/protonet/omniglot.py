"""Prototypical Networks (Snell et al. 2017, arXiv:1703.05175) on Omniglot.

Command:
  tfless-train --config=configs/protonet/omniglot.py:5way1shot \
    --workdir=/tmp/tfless/protonet_omniglot

Args (after the colon, comma-separated): ``5way1shot`` (default), ``5way5shot``,
``20way1shot``, ``20way5shot``; ``smoke`` (2 steps on the built-in glyphs, seconds: a
test has no Omniglot).

Data: TFDS ``omniglot`` (prepared beforehand), the Vinyals class split at 28x28 with the x4
rotated classes (4,112 training classes), test classes rotated too.

Metric: N-way K-shot accuracy on the test characters, 600 episodes of 15 queries per class,
95% confidence interval. Not measured here (no Omniglot on this machine). Published, not
measured (the paper's Table 1): 98.8 / 99.7 (5-way 1-shot / 5-shot) and 96.0 / 98.9
(20-way 1-shot / 5-shot).

Recipe (paper and jakesnell/prototypical-networks): Conv-4 (64 filters, 64-d features),
60-way training episodes with 5 queries and the test shots, Adam 1e-3 halved every 2,000
episodes; 20,000 episodes (the official code trains up to 10,000 epochs of 100 episodes
with early stopping on validation; here a fixed budget).
"""

from tfless.configs import common, fewshot

SETTINGS = ("5way1shot", "5way5shot", "20way1shot", "20way5shot")


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg, allowed=SETTINGS)
    c = fewshot.fewshot_config(
        "protonet",
        {},
        ways=ways,
        shots=shots,
        train_ways=60,
        train_queries=5,
        dataset="omniglot",
        rotations=True,
    )
    c.train.steps = 20000
    c.train.eval_every = 2000
    fewshot.halve_every(c, 2000)
    if smoke:
        fewshot.offline_smoke(c)
    return common.locked(c)
