"""Meta-learner LSTM (Ravi & Larochelle, ICLR 2017, "Optimization as a Model for Few-Shot
Learning") on Omniglot.

Command:
  tfless-train --config=configs/meta_lstm/omniglot.py:5way1shot \
    --workdir=/tmp/tfless/meta_lstm_omniglot

Args (after the colon, comma-separated): ``5way1shot`` (default), ``5way5shot``,
``20way1shot``, ``20way5shot``; ``smoke`` (2 meta-steps on tiny shapes).

Data: TFDS ``omniglot`` (prepared beforehand), the Vinyals class split at 28x28 with the x4
rotated classes.

Metric: N-way K-shot accuracy on the test characters, 600 episodes of 15 queries per class,
95% confidence interval. Not measured here (no Omniglot on this machine); the paper reports
miniImageNet only, so there is no published Omniglot number for this method.

Recipe: the paper's miniImageNet recipe (see configs/meta_lstm/mini_imagenet.py) at 28x28:
Conv-4 learner with 32 filters, 12 updates (1-shot) or 8 (5-shot) per episode, one episode per
meta-update with 15 queries per class, Adam 1e-3 with the gradient norm clipped at 0.25,
50,000 meta-updates.
"""

from tfless.configs import meta_learning


def get_config(arg: str | None = None):
    return meta_learning.meta_lstm_config(
        arg,
        ("5way1shot", "5way5shot", "20way1shot", "20way5shot"),
        steps=50000,
        dataset="omniglot",
        rotations=True,
    )
