"""MAML (Finn et al. 2017, arXiv:1703.03400) on Omniglot.

Command:
  tfless-train --config=configs/maml/omniglot.py:5way1shot --workdir=/tmp/tfless/maml_omniglot

Args (after the colon, comma-separated): ``5way1shot`` (default), ``5way5shot``,
``20way1shot``, ``20way5shot``; ``first_order``; ``smoke`` (2 meta-steps on tiny shapes).

Data: TFDS ``omniglot`` (prepared beforehand), the Vinyals class split at 28x28 with the x4
rotated classes.

Metric: N-way K-shot accuracy on the test characters after 10 inner steps, 600 episodes of 15
queries per class, 95% confidence interval. Not measured here (no Omniglot on this machine).
Published, not measured (the paper's Table 1): 98.7 +- 0.4 / 99.9 +- 0.1 (5-way 1-shot /
5-shot) and 95.8 +- 0.3 / 98.9 +- 0.2 (20-way 1-shot / 5-shot).

Recipe (official code cbfinn/maml ``main.py``): 5-way: 32 episodes per meta-batch, 1 inner step
with inner lr 0.4; 20-way: 16 episodes, 5 inner steps with 0.1; 10 inner steps at meta-test;
Adam 1e-3 for 60,000 meta-steps; training queries = the shots. Conv-4 with 64 filters (here
max-pooled; the official Omniglot network uses strided convolutions).
"""

from tfless.configs import meta_learning


def get_config(arg: str | None = None):
    settings = ("5way1shot", "5way5shot", "20way1shot", "20way5shot")
    twenty = "20way" in (arg or "")
    return meta_learning.maml_config(
        arg,
        settings,
        inner_steps=5 if twenty else 1,
        inner_lr=0.1 if twenty else 0.4,
        episodes_per_batch=16 if twenty else 32,
        steps=60000,
        dataset="omniglot",
        rotations=True,
    )
