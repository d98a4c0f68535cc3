"""The DA baseline (every rotated copy keeps its label) on the built-in digits (runs here).

Command:
  tfless-train --config=configs/sla_da/digits.py --workdir=/tmp/tfless/sla_da_digits

The objective ``da`` of ``configs/sla/digits.py`` as its own config (the registry's
``sla_da`` method). Args (comma-separated): ``transforms=NAME`` (``rotation``, the default,
or ``rotation2`` on gray digits), ``imbalance=R``, ``balanced``, ``smoke``.

Metric: test accuracy; measured at equal compute against the other objectives by
``python benchmarks/sla.py`` (benchmarks/results/sla.md). Recipe and runtime: as
``configs/sla/digits.py`` (Lee, Hwang & Shin, ICML 2020, arXiv 1910.05872).
"""

from tfless.configs import common, sla


def get_config(arg: str | None = None):
    parsed = sla.parse_arg(arg, objective="da")
    c = sla.sla_config(parsed)
    if parsed.smoke:
        common.digits_smoke(c, steps=6, batch_size=16)
    return common.locked(c)
