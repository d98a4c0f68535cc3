"""MoCo v2 (Chen, Fan, Girshick & He 2020) hyperparameters on CIFAR-10.

Command:
  tfless-train --config=configs/moco/cifar10.py --workdir=/tmp/tfless/moco_cifar10
  tfless-eval --workdir=/tmp/tfless/moco_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   200 epochs at batch 256 (39,000 steps). Published, not measured here: 67.5% linear
           on ImageNet with ResNet-50 after 200 epochs ("Improved Baselines with Momentum
           Contrastive Learning", arXiv:2003.04297); CIFAR-10 ResNet-18 MoCo v2+ 92.94%
           (solo-learn's CIFAR-10 results, github.com/vturrisi/solo-learn). Days on a GPU;
           not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: the paper's: K = 65536 (a multiple of 256), m = 0.999, temperature 0.2, MLP
head, SGD lr 0.03 * batch / 256 = 0.03, momentum 0.9, weight decay 1e-4, cosine decay;
SimCLR-style augmentation with blur (MoCo v2, Sec. 2).
"""

from tfless.configs import common, contrastive


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = contrastive.contrastive_config(
        "moco",
        {"version": 2, "queue_size": 65536, "momentum": 0.999, "temperature": 0.2},
        augment="simclr",
        augment_kwargs={"strength": 1.0, "blur": True},
        batch_size=256,
        steps=39000,
        eval_every=3900,
    )
    contrastive.cifar10_recipe(c)
    c.optimizer.update(name="sgd", learning_rate=0.03, weight_decay=1e-4)
    if smoke:
        common.tiny_convnet_smoke(c)
        c.method.kwargs.queue_size = 64
    return common.locked(c)
