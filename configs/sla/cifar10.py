"""SLA on CIFAR-10 with the authors' recipe (ResNet-32, 80k iterations).

Command (needs CIFAR-10 prepared for TFDS and a GPU):
  tfless-train --config=configs/sla/cifar10.py:sla --workdir=/tmp/tfless/sla_c10 \\
      --strategy=mirrored

Args: as ``configs/sla/digits.py``; colour sets work here (``transforms=rot_color_perm12``).

Published, not measured (Lee, Hwang & Shin, ICML 2020, arXiv 1910.05872, ResNet-32 with
rotation; recalled, check Table 3 of the paper before quoting): baseline 92.39%, SLA+AG
94.50%.

Recipe (``tfless.configs.sla.cifar_recipe``; github.com/hankook/SLA): ResNet-32 16/32/64
with option-A shortcuts, batch 128 images (512 forwarded with rotation), 80,000 iterations,
SGD 0.1 momentum 0.9, weight decay 1e-4, x0.1 at 40k and 60k, pad-crop + flip, a 45k / 5k
train / validation split. Differences: the validation images are a stratified seeded
hold-out, not the authors' index file; the authors report the test accuracy at the best
validation accuracy, tfless the final one (validation is logged every 2,000 steps).
Compute: a few GPU-hours; not runnable on the 2-core CPU machine.
"""

from tfless.configs import common, sla


def get_config(arg: str | None = None):
    parsed = sla.parse_arg(arg)
    c = sla.sla_config(parsed)
    sla.cifar_recipe(c, "cifar10")
    if parsed.smoke:
        sla.cifar_smoke(c)
    return common.locked(c)
