"""SimCLR (Chen et al. 2020, Appendix B.9) on CIFAR-10: the paper's CIFAR recipe.

Command:
  tfless-train --config=configs/simclr/cifar10.py --workdir=/tmp/tfless/simclr_cifar10
  tfless-eval --workdir=/tmp/tfless/simclr_cifar10 --dataset=cifar10 --protocol=linear,knn

Args (after the colon):
  (none)   the paper's schedule: 1000 epochs at batch 1024 (48,800 steps), ResNet (CIFAR stem).
           Published, not measured here: ResNet-50 linear evaluation 94.0% ("A Simple
           Framework for Contrastive Learning of Visual Representations", arXiv:2002.05709,
           Appendix B.9); ResNet-18, 1000 epochs: 90.74% (solo-learn's CIFAR-10 results,
           github.com/vturrisi/solo-learn). Days on a GPU; not runnable on this machine's CPUs.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: NT-Xent temperature 0.5, projection 2048-2048-128 (hidden = feature size),
LARS learning rate 1.0 * batch / 256 = 4.0 at batch 1024 (the paper's best CIFAR setting,
B.9), weight decay 1e-6, momentum 0.9, 10 warmup epochs then cosine decay; augmentation:
random resized crop + flip + colour jitter strength 0.5, no blur (Appendix B.9).
"""

from tfless.configs import common, contrastive


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = contrastive.contrastive_config(
        "simclr",
        {"projection_dim": 128, "temperature": 0.5},
        augment="simclr",
        augment_kwargs={"strength": 0.5, "blur": False},
        batch_size=1024,
        steps=48800,
        eval_every=4880,
    )
    contrastive.cifar10_recipe(c)
    c.optimizer.update(name="lars", learning_rate=4.0, warmup_steps=490, weight_decay=1e-6)
    if smoke:
        common.tiny_convnet_smoke(c)
    return common.locked(c)
