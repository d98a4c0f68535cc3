"""PIRL (Misra & van der Maaten 2019) hyperparameters on CIFAR-10.

Command:
  tfless-train --config=configs/pirl/cifar10.py --workdir=/tmp/tfless/pirl_cifar10
  tfless-eval --workdir=/tmp/tfless/pirl_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   200 epochs at batch 256 (39,000 steps). Published, not measured here: 63.6% linear
           on ImageNet with ResNet-50 ("Self-Supervised Learning of Pretext-Invariant
           Representations", arXiv:1912.01991). Days on a GPU; not runnable on this
           machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: the paper's loss settings: temperature 0.07, lambda 0.5, memory-bank EMA
0.5, 128-d; negatives scaled to the paper's ratio (32000 of 1.28M images -> 1250 of 50000);
3x3 jigsaw of 32 px images (10 px cells, 9 px tiles); SGD lr 0.03, momentum 0.9, weight
decay 1e-4, cosine decay (our choice for CIFAR; the paper trains on ImageNet). ``num_data``
(one memory-bank row per training image) is read from the data.
"""

from tfless.configs import common, contrastive


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = contrastive.contrastive_config(
        "pirl",
        {"num_negatives": 1250, "temperature": 0.07, "loss_weight": 0.5},
        augment="flip_crop",
        augment_kwargs=common.CIFAR_CROP,
        batch_size=256,
        steps=39000,
        eval_every=3900,
        with_index=True,
    )
    contrastive.cifar10_recipe(c)
    c.optimizer.update(name="sgd", learning_rate=0.03, weight_decay=1e-4)
    if smoke:
        common.tiny_convnet_smoke(c)
        c.method.kwargs.update(num_negatives=16)
    return common.locked(c)
