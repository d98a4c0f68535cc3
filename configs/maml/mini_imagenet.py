"""MAML (Finn et al. 2017, arXiv:1703.03400) on miniImageNet.

Command:
  tfless-train --config=configs/maml/mini_imagenet.py:5way1shot \
    --config.data.dataset=folder:/data/mini_imagenet/images \
    --config.data.class_split_dir=/data/mini_imagenet/split --workdir=/tmp/tfless/maml_mini

Args (after the colon, comma-separated): ``5way1shot`` (default) or ``5way5shot``;
``first_order``; ``smoke`` (2 meta-steps on the built-in glyphs, since miniImageNet is not
shipped).

Data: a folder of ``class/image`` files with Ravi & Larochelle's 64 / 16 / 20 class split
(``train.csv`` / ``val.csv`` / ``test.csv``), resized to 84x84x3.

Metric: 5-way K-shot accuracy on the 20 test classes after 10 inner steps, 600 episodes of 15
queries per class, 95% confidence interval. Not measured here (no miniImageNet on this
machine). Published, not measured (the paper's Table 1): 48.70 +- 1.84 (1-shot) and 63.11 +-
0.92 (5-shot); first-order: 48.07 +- 1.75 / 63.15 +- 0.91. Chen et al. 2019 measured 46.47 /
62.71. (The official code tests with K queries per class, not 15.)

Recipe (official code cbfinn/maml ``main.py``): Conv-4 with 32 filters and max-pooling, 4
episodes per meta-batch, 5 inner steps with inner lr 0.01, 10 at meta-test, 15 training
queries per class, Adam 1e-3 for 60,000 meta-steps.
"""

from tfless.configs import meta_learning


def get_config(arg: str | None = None):
    return meta_learning.maml_config(
        arg,
        ("5way1shot", "5way5shot"),
        inner_steps=5,
        inner_lr=0.01,
        episodes_per_batch=4,
        steps=60000,
        width=32,
        train_queries=15,
        dataset="folder:/data/mini_imagenet/images",
        image_size=84,
        channels=3,
        class_split_dir="/data/mini_imagenet/split",
    )
