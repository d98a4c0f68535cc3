"""Meta-learner LSTM (Ravi & Larochelle, ICLR 2017, "Optimization as a Model for Few-Shot
Learning") on miniImageNet.

Command:
  tfless-train --config=configs/meta_lstm/mini_imagenet.py:5way1shot \
    --config.data.dataset=folder:/data/mini_imagenet/images \
    --config.data.class_split_dir=/data/mini_imagenet/split --workdir=/tmp/tfless/meta_lstm_mini

Args (after the colon, comma-separated): ``5way1shot`` (default) or ``5way5shot``; ``smoke``
(2 meta-steps on the built-in glyphs, since miniImageNet is not shipped).

Data: a folder of ``class/image`` files with the paper's 64 / 16 / 20 class split
(``train.csv`` / ``val.csv`` / ``test.csv``), resized to 84x84x3.

Metric: 5-way K-shot accuracy on the 20 test classes, 600 episodes of 15 queries per class,
95% confidence interval. Not measured here (no miniImageNet on this machine). Published, not
measured (the paper's Table 1): 43.44 +- 0.77 (1-shot) and 60.60 +- 0.71 (5-shot).

Recipe (paper and official code twitter/meta-learning-lstm): the learner is Conv-4 with 32
filters; 1-shot: 12 learner updates per episode, batch-norm momentum 0.9 (Torch convention;
0.1 in Keras'); 5-shot: 8 updates, 0.95; meta-learner LSTM with 20 hidden units, P = 10;
one episode per meta-update with 15 queries per class; Adam 1e-3 with the gradient norm
clipped at 0.25; 75,000 episodes for 1-shot, 50,000 for 5-shot.
"""

from tfless.configs import fewshot, meta_learning


def get_config(arg: str | None = None):
    _, shots, _ = fewshot.parse_fewshot_arg(arg, allowed=("5way1shot", "5way5shot"))
    return meta_learning.meta_lstm_config(
        arg,
        ("5way1shot", "5way5shot"),
        steps=75000 if shots == 1 else 50000,
        dataset="folder:/data/mini_imagenet/images",
        image_size=84,
        channels=3,
        class_split_dir="/data/mini_imagenet/split",
    )
