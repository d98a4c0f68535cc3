"""MR-GAN stages on CIFAR-DA4-style data: rendered and real images of 4 classes, few real labels.

Data (user-provided, not shipped): two folders with the same 4 class sub-folders, e.g.
``/data/cifar_da4/synthetic/<class>/*.png`` (images rendered from 3D models, all labeled)
and ``/data/cifar_da4/real/<class>/*.png`` (real images: a ``folder:`` dataset, flat or with
``train/`` and ``test/``). 0.25% of the real training labels are kept: 13 per class for
CIFAR-10's 5,000 training images per class (set ``data.labels_per_class`` to 0.25% of your
class size).

Command, the real-only classifier (the stage classifier's network) through the trainer:
  tfless-train --config=configs/mrgan/cifar_da4.py --workdir=/tmp/tfless/da4_real_only \
    --config.data.dataset=folder:/data/cifar_da4/real

Command, MR-GAN stages 0, 1, 2 (stage 0 also trains the real-only classifier; each stage
starts from the previous one's files in the same workdir):
  tfless-train --config=configs/mrgan/cifar_da4.py:stages --workdir=/tmp/tfless/da4 \
    --config.data.dataset=folder:/data/cifar_da4/real \
    --config.mrgan.synthetic_dir=/data/cifar_da4/synthetic
  # later stages only, after an earlier command ran stage 0: --config.mrgan.stages="(1, 2)"

Args (after the colon, comma-separated): (none) the real-only classifier through the
trainer; ``stages`` MR-GAN stages 0, 1, 2 (``mrgan.stages``); ``smoke`` a few steps on the
built-in digits.

Metric: test accuracy on the real test images, as the improvement over the real-only
classifier. Published, not measured (the MR-GAN talk, CIFAR-DA4, 1M synthetic images):
stage 0 +5.43, stage 1 +5.09, stage 2 +8.85 points. Not measured here (no CIFAR-DA4 on this
machine); the digits analogue is in benchmarks/results/generative.md.

Recipe (tfless's choices; the talk gives none): 32x32 RGB; stage classifier convnet
64-128-256, Adam 2e-3, batch 64 (half real, half synthetic), 10,000 steps per stage;
CycleGAN with 6-block ResNet generators of 32 filters (the paper's 128-px generator at
half width) and 3-layer PatchGAN discriminators of 64 filters, 20,000 steps per stage
(half constant, half linear decay); 100,000 of the rendered images held in memory
(``mrgan.max_synthetic``: 1M 32x32 RGB images take 12 GB as float32).
Compute: days on 2 CPU cores; hours on one GPU.
"""

import ml_collections

from tfless.configs import common


def get_config(arg: str | None = None):
    mode, smoke = common.parse_setting_arg(arg, ("stages",), default="")
    c = common.digits_base()
    c.data.dataset = "folder:/data/cifar_da4/real"
    c.data.image_size = 32
    c.data.channels = 3
    c.data.labels_per_class = 13
    c.data.batch_size = 64
    c.data.eval_batch_size = 500
    common.set_augment(c, "flip_crop", {"flip": True})
    c.model.kwargs = ml_collections.ConfigDict({"widths": (64, 128, 256)})
    c.train.steps = 10_000
    c.train.eval_every = 2_000
    c.mrgan = ml_collections.ConfigDict(
        {
            "synthetic_dir": "/data/cifar_da4/synthetic",
            "max_synthetic": 100_000,
            "classifier_steps": 10_000,
            "cyclegan_steps": 20_000,
            "batch_size": 64,
            "classifier_widths": (64, 128, 256),
            "learning_rate": 2e-3,
            "generator_filters": 32,
            "generator_blocks": 6,
            "discriminator_filters": 64,
            "discriminator_layers": 3,
            # Non-empty: tfless-train runs these MR-GAN stages instead of the trainer.
            "stages": (0, 1, 2) if mode == "stages" else (),
        }
    )
    if smoke:
        c.data.dataset = "digits"
        c.data.image_size = 16
        c.data.channels = 1
        c.data.labels_per_class = 4
        c.data.eval_batch_size = 540
        c.model.kwargs.widths = (8, 16)
        common.digits_smoke(c, steps=10, batch_size=16)
        c.mrgan.update(
            classifier_steps=10,
            cyclegan_steps=2,
            batch_size=16,
            classifier_widths=(8, 16),
            generator_filters=4,
            generator_blocks=1,
            discriminator_filters=4,
            discriminator_layers=1,
        )
    return common.locked(c)
