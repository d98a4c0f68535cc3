"""BiT transfer (Kolesnikov et al. 2020, arXiv:1912.11370): BiT-M-R50x1 fine-tuned on
CIFAR-10 with 1, 5 or 10 images per class, or the full training set, by the BiT-HyperRule.

Command (the published weight file ``BiT-M-R50x1.npz`` of google-research/big_transfer is
needed: without ``model.init`` the trunk trains from scratch):
  tfless-train --config=configs/bit/cifar10.py:5shot \\
      --config.model.init=/path/to/BiT-M-R50x1.npz --workdir=/tmp/tfless/bit_cifar10_5shot

Args (after the colon): ``1shot``, ``5shot`` (default), ``10shot`` or ``full``;
``smoke`` (a few steps of a tiny GroupNorm ResNet at 16x16, no weight file; for tests).

Metric: test accuracy after the fixed schedule (no validation hold-out). Published (not
measured here), the official code's few-shot reproductions with BiT-M-R50x1 (its GPU
recipe, batch 128 and learning rate 0.001; median of at least 5 draws of the shots):
CIFAR-10 54.4 / 83.3 / 97.2 (1-shot / 5-shot / full). The 1-shot spread is wide: report
min / median / max over draws (``--config.data.split_seed``). Runtime: a GPU; 500 steps
for the few-shot sets, 10,000 for the full one.

Recipe (BiT-HyperRule): images resized to 128x128, training crops of 0.8 of the side
resized back (BiT's resize to 160 and crop 128) and horizontal flips; SGD momentum 0.9,
no weight decay, learning rate 0.001 at batch 128 (the official GPU variant of 0.003 at
batch 512); linear warm-up, then x0.1 at each decay point: 500 steps (warm-up 100, decays
at 200 / 300 / 400) below 20k examples, 10,000 steps (500 / 3k / 6k / 9k) and MixUp alpha
0.1 for the full 50k; a zero-initialized head on the pooled features.
"""

from tfless.configs import common, transfer
from tfless.train import hyperrule

SHOTS = {"1shot": 1, "5shot": 5, "10shot": 10, "full": None}


def get_config(arg: str | None = None):
    setting, smoke = common.parse_setting_arg(arg, SHOTS, default="5shot")
    shots = SHOTS[setting]
    n = shots * 10 if shots else 50_000  # training examples: the HyperRule's input
    c = transfer.bit_config("cifar10", shots, batch_size=128)
    # BiT's rate: the official GPU variant, 0.001 at batch 128.
    lr = 1e-3
    transfer.set_hyperrule(c, hyperrule.hyperrule_schedule(n), hyperrule.hyperrule_mixup(n), lr)
    c.model.backbone = "bit_r50x1"
    c.model.kwargs = {}
    c.data.image_size = 128
    c.data.channels = 3
    c.data.eval_batch_size = 500
    c.data.shuffle_buffer = 50_000
    common.set_augment(c, "bit_crop", {"flip": True, "crop_fraction": 0.8})
    if smoke:
        transfer.bit_smoke(c)
    return common.locked(c)
