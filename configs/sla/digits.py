"""SLA and its baselines on the built-in digits (runs here).

Command:
  tfless-train --config=configs/sla/digits.py:sla --workdir=/tmp/tfless/sla_digits

Args (comma-separated, see ``tfless.configs.sla``): the objective ``baseline``, ``da``,
``mt``, ``sla`` (SLA+AG, default), ``sla_si`` or ``sla_sd``; ``transforms=NAME`` (gray images
take ``rotation``, the default, or ``rotation2``); ``imbalance=R`` (long-tailed training
subset, R = 10 or 100 in the paper's imbalanced setting); ``balanced`` (class-balanced
re-weighting); ``smoke`` (seconds). Example: ``configs/sla/digits.py:sla_sd,imbalance=100``.

MNIST-5k (the built-in 28x28 subset) runs with the same config:
  tfless-train --config=configs/sla/digits.py:sla --config.data.dataset=mnist5k \
      --config.data.image_size=28 --workdir=/tmp/tfless/sla_mnist5k
(an SLA step then forwards 256 28x28 images: roughly 10-15 minutes here).

Metric: test accuracy of the method's own inference (SLA+AG, SLA+SI or the SD single head).
Measured by ``python benchmarks/sla.py`` (3 seeds, equal step budget and forwarded images;
see benchmarks/results/sla.md): with rotation, at 96 forwarded 8x8 images per step for 400
steps, baseline 97.0 +- 1.3%, DA 82.2 +- 4.3, MT 78.6 +- 0.8, SLA+SI 91.2 +- 1.1, SLA+AG
94.6 +- 0.5, SLA+SD 94.1 +- 1.8 (2026-11-30). This config's own 2,000-step run is not measured.

Recipe: the supervised digits schema (``tfless.configs.common.digits_base``: ConvNet
32-64-128 on 16x16 digits, Adam 2e-3 cosine, batch 64 original images, 2,000 steps, EMA 0.99);
an SLA-family step forwards 64 x M images (256 with rotation), so it runs about 4x longer
than the baseline: a few minutes on the 2 shared CPU cores.
"""

from tfless.configs import common, sla


def get_config(arg: str | None = None):
    parsed = sla.parse_arg(arg)
    c = sla.sla_config(parsed)
    if parsed.smoke:
        common.digits_smoke(c, steps=6, batch_size=16)
    return common.locked(c)
