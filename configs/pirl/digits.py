"""PIRL (Misra & van der Maaten 2019) with the jigsaw transform on the built-in digits.

Command:
  tfless-train --config=configs/pirl/digits.py --workdir=/tmp/tfless/pirl_digits
  tfless-eval --workdir=/tmp/tfless/pirl_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   1000 steps at batch 256; benchmarks/results/selfsup*.md measure it at 500 steps
           (3 seeds) against the random-init encoder.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: memory bank of every training image (EMA 0.5; ``num_data`` is read from the data:
1,257 digits, 4,000 MNIST-5k images), 3x3 jigsaw (8 px cells, 7 px tiles at 24 px), NCE with
temperature 0.07, lambda 0.5, 32 negatives (2.5% of the data, the paper's 32000 / 1.28M
ratio), projection 128; random-resized-crop and colour-jitter augmentation of the image, as
in the instance-discrimination methods PIRL builds on (no flip for digits), here the digits
SimCLR views (crop scale 0.3-1, strength 0.5); ConvNet 32-64-128; Adam 2e-3, cosine decay.
Data loaded with_index for the bank.

Batch 256 (the paper's is 1024): a bank entry is refreshed once per epoch, so the bank needs
passes over the data more than steps (measurements: benchmarks/results/pirl_digits_batch_size.md).
"""

from tfless.configs import common, contrastive


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = contrastive.contrastive_config(
        "pirl",
        {"num_negatives": 32, "temperature": 0.07, "loss_weight": 0.5},
        augment="simclr",
        augment_kwargs=contrastive.DIGITS_SIMCLR_VIEWS,
        image_size=24,
        batch_size=256,
        steps=1000,
        eval_every=250,
        with_index=True,
    )
    if smoke:
        common.digits_smoke(c, batch_size=16)
    return common.locked(c)
