"""Baseline (Chen et al. 2019, "A Closer Look at Few-shot Classification", arXiv:1904.04232)
on miniImageNet.

Command:
  tfless-train --config=configs/baseline/mini_imagenet.py:5way1shot \
    --config.data.dataset=folder:/data/mini_imagenet/images \
    --config.data.class_split_dir=/data/mini_imagenet/split --workdir=/tmp/tfless/baseline_mini

Args (after the colon, comma-separated): ``5way1shot`` (default) or ``5way5shot``;
``smoke`` (2 steps on the built-in glyphs, since miniImageNet is not shipped).

Data: a folder of ``class/image`` files with Ravi & Larochelle's 64 / 16 / 20 class split
(``train.csv`` / ``val.csv`` / ``test.csv`` in ``data.class_split_dir``), 84x84x3.

Metric: 5-way K-shot accuracy on the novel classes, 600 episodes of 15 queries per class,
95% confidence interval. Not measured here (no miniImageNet on this machine). Published,
not measured (Chen et al. 2019, Conv-4, their results sheet): 42.11 / 62.53 (1-shot / 5-shot).

Recipe (the authors' code): Conv-4 (64 filters, 1,600-d features) and a linear classifier,
batches of 16, Adam 1e-3, 400 epochs of the 38,400 base images (960,000 steps). Test: a
new linear head on frozen features, 100 epochs of batches of 4, SGD 0.01, momentum 0.9,
dampening 0.9, weight decay 1e-3.
"""

from tfless.configs import common, fewshot


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg, allowed=("5way1shot", "5way5shot"))
    c = fewshot.fewshot_config(
        "baseline",
        {},
        ways=ways,
        shots=shots,
        episode_stream=False,
        dataset="folder:/data/mini_imagenet/images",
        image_size=84,
        channels=3,
    )
    c.data.class_split_dir = "/data/mini_imagenet/split"
    c.data.batch_size = 16
    c.train.steps = 960000
    c.train.eval_every = 2400
    if smoke:
        fewshot.offline_smoke(c)
    return common.locked(c)
