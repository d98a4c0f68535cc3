"""Uncertainty-based sampling (Wu et al. 2020) on digits with 10 labels per class.

Command:
  tfless-train --config=configs/uncertainty_sampling/digits.py \
      --workdir=/tmp/tfless/uncertainty_sampling_digits

Args (after the colon):
  (none)  100 labeled 16x16 digits, 1,000 steps. Expected: about 94-96% test accuracy
          (measured 95.2% at 600 steps, seed 0; see benchmarks/results/augment_learned.md,
          whose cross-check shows no augmentation at 96.0% once batch-norm statistics
          settle). About 5 minutes on 2 busy CPU cores.
  smoke   a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: the authors' K = 4 random compositions of 2 ops per image, train on the L = 1
highest-loss copy. Scaled to digits: the op list keeps the label-preserving geometric and
contrast ops (Posterize, Solarize, Invert and Equalize at random magnitudes turn 8x8 digits
into near-blank or inverted images, which would always be the highest-loss copy) and the
magnitude range is 0..6; pad-crop by 1/8 without flips as the base view; small ConvNet,
Adam 2e-3 with cosine decay, batch 50, EMA 0.99 of the weights for evaluation.
"""

from tfless.configs import augment, common

DIGIT_OPS = ("Identity", "Rotate", "ShearX", "ShearY", "TranslateX", "TranslateY",
             "Contrast", "Brightness", "Sharpness", "AutoContrast")  # fmt: skip


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = augment.augment_config(
        "uncertainty_sampling",
        {
            "num_samples": 4,
            "num_selected": 1,
            "num_layers": 2,
            "transforms": DIGIT_OPS,
            "magnitude": (0.0, 6.0),
            "weight_decay": 0.0,
        },
        augment="flip_crop",
        augment_kwargs=common.DIGITS_CROP,
    )
    if smoke:
        common.digits_smoke(c)
        c.method.kwargs.num_samples = 2
    return common.locked(c)
