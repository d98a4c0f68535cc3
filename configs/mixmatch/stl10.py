"""MixMatch (Berthelot et al. 2019) on STL-10: the paper's recipe.

Command (needs STL-10 prepared for TFDS, train + test + unlabelled splits, and accelerators):
  tfless-train --config=configs/mixmatch/stl10.py \
      --workdir=/tmp/tfless/mixmatch_stl10 --strategy=mirrored

Args: ``labels=N`` labels per class (100 / 500 for 1,000 / 5,000 labels; default 100);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Labels: the standard protocol uses the 10 predefined folds of 1,000 images of the 5,000-image
train split; tfless draws a class-balanced subset of 100 per class (``data.split_seed``),
which approximates a fold. ``labels=500`` is the whole train split (5,000 labels).

Recipe (the official code's run script, google-research/mixmatch ``runs/table2.sh``): WRN-37-2
(``wrn37_2``) on the 96x96 images (``--scales=4``), labeled batch 64, unlabeled batch 64
(mu 1) from train (5,000) + unlabelled (100,000) with K 2 weak views (flip + 12.5%
translation), T 0.5, alpha 0.75, lambda_u 50 (75 on CIFAR-10) ramped linearly over 16,000
steps, Adam lr 0.002, decoupled weight decay 0.02 (times the lr), EMA 0.999, 2^20 steps. The
official network keeps its first group at stride 1 (``--config.model.kwargs.first_stride=1``,
4x the FLOPs); the default here is TorchSSL/USB's stride 2.

Published test error (not measured here): 10.18% with 1,000 labels, 5.59% with 5,000 labels
("MixMatch: A Holistic Approach to Semi-Supervised Learning", arXiv:1905.02249, STL-10 table;
Papers with Code lists 89.82% / 94.41% accuracy). The FixMatch paper's re-run of MixMatch
gives 10.41% with 1,000 labels (arXiv:2001.07685, Table 2; Papers with Code 89.59%).
Compute: WRN-37-2 at 96x96 is 0.65 GMACs per image forward, 3x WRN-28-2 at 32x32; a step
(64 labeled + 2 x 64 unlabeled images) costs about 3x a CIFAR-10 MixMatch step, so roughly
3x the CIFAR-10 run (the official FixMatch TF run takes about 4 GPU-days, TorchSSL about
16 h on 4 V100s), an estimate from FLOPs. Not runnable on the 2-core CPU machine.
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=100)
    c = semi.semi_config(
        "mixmatch",
        {
            "temperature": 0.5,
            "alpha": 0.75,
            "lambda_u": 50.0,
            "rampup_steps": 16000,
            "weight_decay": 0.0,
        },
        labels=labels,
        mu=1,
        unlabeled_views="multi_weak",
        views_kwargs={"k": 2},
    )
    semi.stl10_recipe(c)
    c.optimizer.update(
        name="adam", learning_rate=0.002, schedule="constant", nesterov=False, weight_decay=0.02
    )
    if smoke:
        semi.smoke(c)
        c.method.kwargs.rampup_steps = 2
    return common.locked(c)
