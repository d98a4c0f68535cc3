"""SLA on CIFAR-100 with the authors' recipe (ResNet-32, 80k iterations).

Command (needs CIFAR-100 prepared for TFDS and a GPU):
  tfless-train --config=configs/sla/cifar100.py:sla --workdir=/tmp/tfless/sla_c100 \\
      --strategy=mirrored

Args: as ``configs/sla/digits.py``; colour sets work here (``transforms=rot_color_perm12``).

Published, not measured (Lee, Hwang & Shin, ICML 2020, arXiv 1910.05872, ResNet-32 with
rotation; recalled, check Table 3 of the paper before quoting): baseline 68.27%, SLA+AG
74.14%, SLA+SD about 71.9%.

Recipe: as ``configs/sla/cifar10.py`` (``tfless.configs.sla.cifar_recipe``), 100 classes
(a joint head of 400 outputs with rotation). Compute: a few GPU-hours; not runnable on the
2-core CPU machine.
"""

from tfless.configs import common, sla


def get_config(arg: str | None = None):
    parsed = sla.parse_arg(arg)
    c = sla.sla_config(parsed)
    sla.cifar_recipe(c, "cifar100")
    if parsed.smoke:
        sla.cifar_smoke(c)
    return common.locked(c)
