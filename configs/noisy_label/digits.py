"""Noise-robust losses on the built-in digits with symmetric label noise.

Command:
  tfless-train --config=configs/noisy_label/digits.py:sce_40 --workdir=/tmp/tfless/noisy_digits

Args (after the colon): ``<loss>_<noise %>``, optionally ``_smoke``.
  loss     ce | bootstrap_soft | bootstrap_hard | gce | sce (default sce, with the authors'
           MNIST alpha 0.01 / beta 1.0; bootstrapping beta 0.95 soft / 0.8 hard; GCE q 0.7).
  noise    percentage of training labels flipped to another class uniformly (default 40):
           ``data.label_noise`` corrupts the training split after the validation hold-out
           (validation and test labels stay clean) and the manifest records its hash.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Metric: test accuracy on the clean test split. ``benchmarks/weak.py`` measures every loss
at 0/20/40/60/80% noise (see its table in benchmarks/results/weak.md). Published (not
measured, CIFAR-100 at 0/20/40/60% noise, Wang et al. 2019): CE 64.3/59.3/50.8/25.4,
GCE 64.4/59.1/53.3/36.2, SCE 66.8/60.0/53.7/41.5. Runtime: like configs/supervised/digits.py,
1.5-3 min for 2,000 steps on 2 shared CPU cores.

Recipe: the supervised digits schema (``tfless.configs.common.digits_base``: ConvNet
32-64-128 on 16x16 digits, Adam 2e-3 cosine, batch 64, 2,000 steps), method ``noisy_label``.
"""

import ml_collections

from tfless.configs import common

LOSSES = ("ce", "bootstrap_soft", "bootstrap_hard", "gce", "sce")
SCE_MNIST = {"alpha": 0.01, "beta": 1.0}


def _parse(arg: str) -> tuple[str, int, bool]:
    parts = (arg or "sce_40").split("_")
    smoke = parts[-1] == "smoke"
    parts = parts[:-1] if smoke else parts
    rate = 40
    if parts and parts[-1].isdigit():
        rate = int(parts.pop())
    loss = "_".join(parts) or "sce"
    if loss not in LOSSES or not 0 <= rate < 100:
        raise ValueError(
            f"config arg {arg!r}: expected '<loss>_<noise %>[_smoke]' with loss in {LOSSES} "
            "and noise in [0, 100), e.g. 'sce_40' or 'ce_20_smoke'."
        )
    return loss, rate, smoke


def get_config(arg: str | None = None):
    loss, rate, smoke = _parse(arg or "sce_40")
    c = common.digits_base()
    c.method.name = "noisy_label"
    c.method.kwargs = ml_collections.ConfigDict(
        {
            "loss": loss,
            "loss_kwargs": ml_collections.ConfigDict(SCE_MNIST if loss == "sce" else {}),
            "weight_decay": 0.0,
        }
    )
    c.data.label_noise = ml_collections.ConfigDict(
        {"kind": "symmetric", "rate": rate / 100.0, "seed": 0}
    )
    if smoke:
        common.digits_smoke(c, steps=10)
    return common.locked(c)
