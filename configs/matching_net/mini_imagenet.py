"""Matching Networks with full-context embeddings (Vinyals et al. 2016, arXiv:1606.04080)
on miniImageNet.

Command:
  tfless-train --config=configs/matching_net/mini_imagenet.py:5way1shot \
    --config.data.dataset=folder:/data/mini_imagenet/images \
    --config.data.class_split_dir=/data/mini_imagenet/split --workdir=/tmp/tfless/mn_mini

Args (after the colon, comma-separated): ``5way1shot`` (default) or ``5way5shot``;
``smoke`` (2 steps on the built-in glyphs, since miniImageNet is not shipped).

Data: a folder of ``class/image`` files with Ravi & Larochelle's 64 / 16 / 20 class split,
84x84x3.

Metric: 5-way K-shot accuracy on the test classes, 600 episodes of 15 queries per class,
95% confidence interval. Not measured here (no miniImageNet on this machine). Published,
not measured, on this (Ravi) split, as Ravi & Larochelle 2017 report it: FCE 43.56 / 55.31
(1-shot / 5-shot); Chen et al. 2019's Conv-4 re-implementation (which scales the cosine
by 100): 48.14 / 63.48. The paper's own 44.2 / 57.0 are on Vinyals' different 80/20 split.

Recipe: Conv-4 (64 filters, 1,600-d features), full-context embeddings (bidirectional LSTM
over the support set, attention LSTM over the queries), cosine attention, training episodes
with the test ways and shots and 15 queries; Adam 1e-3; 20,000 episodes.
"""

from tfless.configs import common, fewshot


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg, allowed=("5way1shot", "5way5shot"))
    c = fewshot.fewshot_config(
        "matching_net",
        {"fce": True},
        ways=ways,
        shots=shots,
        dataset="folder:/data/mini_imagenet/images",
        image_size=84,
        channels=3,
    )
    c.data.class_split_dir = "/data/mini_imagenet/split"
    c.train.steps = 20000
    c.train.eval_every = 2000
    if smoke:
        fewshot.offline_smoke(c)
    return common.locked(c)
