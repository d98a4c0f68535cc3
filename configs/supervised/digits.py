"""Supervised baseline on the built-in digits (the README's main job).

Command:
  tfless-train --config=configs/supervised/digits.py --workdir=/tmp/tfless/supervised_digits

Args (after the colon):
  (none)   all labels of the 1,131 training images left after the validation hold-out
           (a tenth of 1,257). Expected: >= 97% test accuracy. Measured 99.07% (seed 0,
           2,000 steps, 2026-11-30, the command above; 99.44% with
           ``--config.data.val_size=0``, every training image; 1.5-3 min on 2 shared CPU
           cores).
  labeled  4 labels per class (40 images), the labeled-only reference the semi-supervised
           methods must beat. Expected: about 87% test accuracy (measured 86.7%, seed 0).
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py);
           ``labeled_smoke`` is both.

Recipe (``tfless.configs.common.digits_base``, the schema every digits config starts from):
small ConvNet (32-64-128) on 16x16 digits, Adam 2e-3 with cosine decay and 100 warmup steps,
batch 64, 2,000 steps, no augmentation, EMA 0.99 of the weights for evaluation.
"""

from tfless.configs import common


def get_config(arg: str | None = None):
    arg = common.check_arg(arg, "", "smoke", "labeled", "labeled_smoke")
    c = common.digits_base()
    if arg.startswith("labeled"):
        c.data.labels_per_class = 4
        c.data.batch_size = 40
    if arg.endswith("smoke"):
        common.digits_smoke(c, steps=20)
    return common.locked(c)
