"""Denoising convolutional autoencoder (Vincent et al. 2008; Masci et al. 2011) on the
built-in digits, no labels (pre-training for the linear probe / kNN).

Command:
  tfless-train --config=configs/autoencoder/digits.py --workdir=/tmp/tfless/autoencoder_digits
  tfless-eval --workdir=/tmp/tfless/autoencoder_digits --dataset=digits --protocol=linear,knn

Args (after the colon):
  (none)   2000 steps. Measured in benchmarks/results/selfsup.md (500 steps, 3 seeds):
           above the random-init encoder on the 10-labels/class probe and kNN; about 2
           minutes on 2 CPU cores.
  smoke    a few steps, finishes in seconds (exercised by tests/test_configs.py).

Recipe: the encoder's 128-d feature vector is the code; masking noise destroys 25% of the
pixels (Vincent et al. 2008), the decoder reconstructs the clean image. The encoder is the
supervised baseline's ConvNet (32-64-128), digits resized to 24x24; Adam 2e-3 with cosine decay
and 100 warmup steps, batch 64, no augmentation (the pretext task builds its own inputs in-
graph), no labels read."""

from tfless.configs import common, pretext


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = pretext.pretext_config(
        "autoencoder",
        {"noise": "masking", "noise_level": 0.25, "loss": "mse", "decoder_width": 64},
    )
    if smoke:
        common.digits_smoke(c, batch_size=16)
        c.method.kwargs.decoder_width = 8
    return common.locked(c)
