"""Prototypical Networks (Snell et al. 2017, arXiv:1703.05175) on the built-in glyphs.

Command:
  tfless-train --config=configs/protonet/glyphs.py:5way1shot --workdir=/tmp/tfless/protonet_glyphs

Args (after the colon, comma-separated): ``5way1shot`` (default) or ``5way5shot`` (the test
episodes; training episodes have the same shots); ``smoke`` (2 steps on tiny shapes).

Data: glyphs (608 character classes of 17 scripts, 28x28x1): training episodes from the 389
background classes, test episodes from the 152 evaluation classes.

Metric: 5-way K-shot accuracy on the evaluation classes, 600 episodes of 15 queries per
class, with its 95% confidence interval (``fewshot_5way1shot_accuracy`` / ``_ci95`` in
metrics.json). See the README's few-shot section for the measured numbers.

Recipe: the paper's Omniglot recipe on a shorter budget: Conv-4 (64 filters, 64-d
features), squared Euclidean distance, Adam 1e-3 halved every 2,000 episodes; training
episodes 20-way (the paper uses 60-way on Omniglot; 20 keeps a step cheap here) with
15 queries; 1,000 episodes, one per step.
"""

from tfless.configs import common, fewshot


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg, allowed=("5way1shot", "5way5shot"))
    c = fewshot.fewshot_config("protonet", {}, ways=ways, shots=shots, train_ways=20)
    c.train.steps = 1000
    c.train.eval_every = 500
    fewshot.halve_every(c, 2000)
    if smoke:
        fewshot.fewshot_smoke(c)
    return common.locked(c)
