"""MAML (Finn et al. 2017, arXiv:1703.03400) on the built-in glyphs.

Command:
  tfless-train --config=configs/maml/glyphs.py:5way1shot --workdir=/tmp/tfless/maml_glyphs

Args (after the colon, comma-separated): ``5way1shot`` (default) or ``5way5shot``;
``first_order`` (first-order MAML); ``smoke`` (2 meta-steps on tiny shapes, seconds).

Data: glyphs (28x28x1 characters of many scripts): training episodes from the background
classes, test episodes from the evaluation classes.

Metric: 5-way K-shot accuracy on the evaluation classes after 10 inner steps, 600 episodes of
15 queries per class, with its 95% confidence interval (``fewshot_5way1shot_accuracy`` /
``_ci95`` in metrics.json). Not measured yet on this machine; runtime not measured.

Recipe: the paper's Omniglot 5-way recipe (official code cbfinn/maml) on a shorter budget:
1 inner step with inner lr 0.4 at meta-training, 10 at meta-test, Adam 1e-3, training queries
= the shots (as the official Omniglot code); 8 episodes per meta-batch instead of 32 and
2,000 meta-steps instead of 60,000, to run on CPU. Conv-4 with 64 filters and max-pooling
(the official Omniglot network uses strided convolutions instead). Batch norm with the
statistics of each episode's batch at meta-training and meta-test, not synchronized across
replicas.
"""

from tfless.configs import meta_learning


def get_config(arg: str | None = None):
    return meta_learning.maml_config(
        arg,
        ("5way1shot", "5way5shot"),
        inner_steps=1,
        inner_lr=0.4,
        episodes_per_batch=8,
        steps=2000,
    )
