"""Matching Networks (Vinyals et al. 2016, arXiv:1606.04080) on Omniglot.

Command:
  tfless-train --config=configs/matching_net/omniglot.py:5way1shot \
    --workdir=/tmp/tfless/matching_net_omniglot

Args (after the colon, comma-separated): ``5way1shot`` (default), ``5way5shot``,
``20way1shot``, ``20way5shot``; ``smoke`` (2 steps on the built-in glyphs, seconds: a
test has no Omniglot).

Data: TFDS ``omniglot`` (prepared beforehand), the Vinyals class split at 28x28 with the x4
rotated classes.

Metric: N-way K-shot accuracy on the test characters, 600 episodes of 15 queries per class,
95% confidence interval. Not measured here (no Omniglot on this machine). Published, not
measured (the paper's Table 1): 98.1 / 98.9 (5-way 1-shot / 5-shot) and 93.8 / 98.5
(20-way 1-shot / 5-shot).

Recipe (paper): Conv-4 (64 filters), cosine attention, no full-context embeddings (the paper
reports they did not help on Omniglot), training episodes with the test ways and shots;
Adam 1e-3 (as Chen et al. 2019 re-implement it; the paper gives no optimizer), 32 episodes
per meta-batch, 20,000 steps.
"""

from tfless.configs import common, fewshot

SETTINGS = ("5way1shot", "5way5shot", "20way1shot", "20way5shot")


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg, allowed=SETTINGS)
    c = fewshot.fewshot_config(
        "matching_net",
        {"fce": False},
        ways=ways,
        shots=shots,
        episodes_per_batch=32,
        dataset="omniglot",
        rotations=True,
    )
    c.train.steps = 20000
    c.train.eval_every = 2000
    if smoke:
        fewshot.offline_smoke(c)
    return common.locked(c)
