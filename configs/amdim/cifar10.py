"""AMDIM (Bachman, Hjelm & Buchwalter 2019) CIFAR-10 settings.

Command:
  tfless-train --config=configs/amdim/cifar10.py --workdir=/tmp/tfless/amdim_cifar10
  tfless-eval --workdir=/tmp/tfless/amdim_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   150 epochs at batch 200 (37,500 steps). Published, not measured here: 91.2% linear
           on CIFAR-10 with the paper's own encoder ("Learning Representations by Maximizing
           Mutual Information Across Views", arXiv:1906.00910); ResNet-18 here. Not runnable
           on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: embedding (n_rkhs) 1024, tanh clip 20, score penalty 5e-2, Adam 2e-4 at batch
200 (the authors' CIFAR-10 command line); SimCLR-style views standing in for the paper's
random resized crop + colour jitter + grayscale.
"""

from tfless.configs import common, contrastive


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = contrastive.contrastive_config(
        "amdim",
        {"embedding_dim": 1024, "clip": 20.0, "reg_weight": 0.05},
        augment="simclr",
        augment_kwargs={"strength": 0.5, "blur": False},
        batch_size=200,
        steps=37500,
        eval_every=3750,
    )
    contrastive.cifar10_recipe(c)
    c.optimizer.update(name="adam", learning_rate=2e-4)
    if smoke:
        common.tiny_convnet_smoke(c, widths=(8, 16, 16))
        c.method.kwargs.embedding_dim = 16
    return common.locked(c)
