"""CPC v2 (Henaff et al. 2019) scaled to CIFAR-10.

Command:
  tfless-train --config=configs/cpc/cifar10.py --workdir=/tmp/tfless/cpc_cifar10
  tfless-eval --workdir=/tmp/tfless/cpc_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   200 epochs at batch 256 (39,000 steps). Published, not measured here: 71.5% linear
           on ImageNet with ResNet-161, 63.8% with ResNet-50 ("Data-Efficient Image
           Recognition with Contrastive Predictive Coding", arXiv:1905.09272). Not runnable
           on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: the paper's grid geometry at CIFAR scale: a 7x7 grid of 8 px patches at stride
4 (the paper: 7x7 of 64 px at stride 32), predictions up to 5 rows ahead (van den Oord et al.
2018), masked residual context network; Adam 2e-4 (the paper's optimizer; our choice of
rate), flip-and-crop views. CPC v2 uses layer norm in the encoder: pass a backbone without
batch norm for a faithful run. Evaluation and export read the paper's features: the encoder
over the patch grid, mean-pooled (``eval_features="patch_grid"``, the default).
"""

from tfless.configs import common, contrastive


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = contrastive.contrastive_config(
        "cpc",
        {"patch_size": 8, "patch_stride": 4, "prediction_steps": 5, "context_layers": 5},
        augment="flip_crop",
        augment_kwargs=common.CIFAR_CROP,
        batch_size=256,
        steps=39000,
        eval_every=3900,
    )
    contrastive.cifar10_recipe(c)
    c.optimizer.update(name="adam", learning_rate=2e-4)
    if smoke:
        common.tiny_convnet_smoke(c, batch_size=8)
        c.method.kwargs.update(prediction_steps=2, context_layers=1)
    return common.locked(c)
