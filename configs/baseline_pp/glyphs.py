"""Baseline++ (Chen et al. 2019, "A Closer Look at Few-shot Classification", arXiv:1904.04232)
on the built-in glyphs.

Command:
  tfless-train --config=configs/baseline_pp/glyphs.py:5way1shot \
    --workdir=/tmp/tfless/baseline_pp_glyphs

Args (after the colon, comma-separated): ``5way1shot`` (default) or ``5way5shot`` (the
test episodes; pre-training does not depend on them); ``smoke`` (2 steps on tiny shapes).

Data: glyphs (28x28x1): pre-training on the 389 background classes, test episodes from the
152 evaluation classes.

Metric: 5-way K-shot accuracy on the evaluation classes, 600 episodes of 15 queries per
class, 95% confidence interval (``fewshot_5way1shot_accuracy`` / ``_ci95``).

Recipe (the authors' code, wyharveychen/CloserLookFewShot, Omniglot setting): Conv-4 (64
filters) and a cosine classifier (learnable per-class norm, scale 10 above 200 base classes,
else 2), cross-entropy on batches of 16, Adam 1e-3, 5 epochs of the background images (2,430
steps). Test: a new cosine head on the frozen features of each episode's support set, 100
epochs of batches of 4, SGD 0.01 with momentum 0.9, dampening 0.9 and weight decay 1e-3.
"""

from tfless.configs import common, fewshot


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg, allowed=("5way1shot", "5way5shot"))
    c = fewshot.fewshot_config("baseline_pp", {}, ways=ways, shots=shots, episode_stream=False)
    c.data.batch_size = 16
    c.train.steps = 2430
    c.train.eval_every = 810
    if smoke:
        fewshot.fewshot_smoke(c)
    return common.locked(c)
