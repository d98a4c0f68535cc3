"""Meta-learner LSTM (Ravi & Larochelle, ICLR 2017, "Optimization as a Model for Few-Shot
Learning") on the built-in glyphs.

Command:
  tfless-train --config=configs/meta_lstm/glyphs.py:5way1shot \
    --workdir=/tmp/tfless/meta_lstm_glyphs

Args (after the colon, comma-separated): ``5way1shot`` (default) or ``5way5shot``; ``smoke``
(2 meta-steps on tiny shapes, seconds).

Data: glyphs (28x28x1 characters of many scripts): training episodes from the background
classes, test episodes from the evaluation classes.

Metric: 5-way K-shot accuracy on the evaluation classes, 600 episodes of 15 queries per
class, with its 95% confidence interval (``fewshot_5way1shot_accuracy`` / ``_ci95`` in
metrics.json). Not measured yet on this machine; runtime not measured.

Recipe: the paper's miniImageNet recipe (see configs/meta_lstm/mini_imagenet.py) at 28x28 on
a shorter budget: Conv-4 learner with 32 filters, 12 updates (1-shot) or 8 (5-shot) per
episode, one episode per meta-update with 15 queries per class, Adam 1e-3 with the gradient
norm clipped at 0.25; 2,000 meta-updates instead of 75,000 / 50,000.
"""

from tfless.configs import meta_learning


def get_config(arg: str | None = None):
    return meta_learning.meta_lstm_config(arg, ("5way1shot", "5way5shot"), steps=2000)
