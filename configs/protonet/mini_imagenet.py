"""Prototypical Networks (Snell et al. 2017, arXiv:1703.05175) on miniImageNet.

Command:
  tfless-train --config=configs/protonet/mini_imagenet.py:5way1shot \
    --config.data.dataset=folder:/data/mini_imagenet/images \
    --config.data.class_split_dir=/data/mini_imagenet/split --workdir=/tmp/tfless/protonet_mini

Args (after the colon, comma-separated): ``5way1shot`` (default) or ``5way5shot``;
``smoke`` (2 steps on the built-in glyphs, since miniImageNet is not shipped).

Data: a folder of ``class/image`` files with Ravi & Larochelle's 64 / 16 / 20 class split
(``train.csv`` / ``val.csv`` / ``test.csv``), resized to 84x84x3.

Metric: 5-way K-shot accuracy on the 20 test classes, 600 episodes of 15 queries per class,
95% confidence interval. Not measured here (no miniImageNet on this machine). Published,
not measured (the paper's Table 2): 49.42 +- 0.78 (1-shot) and 68.20 +- 0.66 (5-shot).
Trained with 5-way episodes instead, Chen et al. 2019 measured 44.42 / 64.24.

Recipe (paper): Conv-4 (64 filters, 1,600-d features), training episodes 30-way for
1-shot and 20-way for 5-shot, 15 queries, the test shots; Adam 1e-3 halved every 2,000
episodes; 20,000 episodes.
"""

from tfless.configs import common, fewshot


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg, allowed=("5way1shot", "5way5shot"))
    c = fewshot.fewshot_config(
        "protonet",
        {},
        ways=ways,
        shots=shots,
        train_ways=30 if shots == 1 else 20,
        dataset="folder:/data/mini_imagenet/images",
        image_size=84,
        channels=3,
    )
    c.data.class_split_dir = "/data/mini_imagenet/split"
    c.train.steps = 20000
    c.train.eval_every = 2000
    fewshot.halve_every(c, 2000)
    if smoke:
        fewshot.offline_smoke(c)
    return common.locked(c)
