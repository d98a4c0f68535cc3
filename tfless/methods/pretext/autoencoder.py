"""Convolutional and denoising autoencoders."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from tfless.augment import rng
from tfless.losses.pretext import reconstruction_loss
from tfless.methods.pretext.base import PretextMethod, feature_dim_of, image_shape_of
from tfless.methods.pretext.decoder import upsampling_decoder

NOISES = ("none", "gaussian", "masking")


def corrupt(images, noise: str, level: float):
    """Corrupts images ``[B, H, W, C]`` in [0, 1] (Vincent et al. 2008/2010).

    ``gaussian``: adds N(0, level^2) and clips to [0, 1]; ``masking``: sets a random
    fraction ``level`` of the pixels (all channels) to 0; ``none``: identity.
    """
    if noise == "gaussian":
        return tf.clip_by_value(images + level * rng.normal(tf.shape(images)), 0.0, 1.0)
    if noise == "masking":
        shape = tf.concat([tf.shape(images)[:3], [1]], 0)
        return images * tf.cast(rng.uniform(shape) >= level, images.dtype)
    return images


class Autoencoder(PretextMethod):
    """Convolutional autoencoder, optionally denoising.

    The encoder's ``[B, D]`` feature vector is the code (so the exported features are
    exactly the bottleneck); a decoder (a dense layer to a 1/8-resolution map, then
    bilinear-upsampling conv blocks, in the spirit of the convolutional autoencoders
    of Masci et al. 2011, "Stacked Convolutional Auto-Encoders for Hierarchical
    Feature Extraction") reconstructs the clean image. With ``noise`` the input is
    corrupted first and the clean image is the target: the denoising autoencoder of
    Vincent, Larochelle, Bengio & Manzagol, ICML 2008, "Extracting and Composing
    Robust Features with Denoising Autoencoders" (masking noise destroying a fraction
    of the inputs, 25% in their experiments) and Vincent et al., JMLR 2010 (additive
    Gaussian noise). Reconstruction loss: squared error, or Bernoulli cross-entropy
    (``loss="bce"``) as Vincent et al. use for inputs in [0, 1].

    Reads ``image`` ``[B, H, W, C]``. Trackers: ``loss``, ``reconstruction_error``
    (mean squared error of the reconstruction in [0, 1], whatever the loss).

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      noise: ``"none"`` (plain autoencoder), ``"gaussian"`` or ``"masking"``.
      noise_level: Gaussian standard deviation or masked fraction, in [0, 1).
      loss: ``"mse"`` or ``"bce"``.
      decoder_width: channels of the decoder blocks.
    """

    def __init__(
        self,
        encoder: keras.Model,
        noise: str = "none",
        noise_level: float = 0.25,
        loss: str = "mse",
        decoder_width: int = 64,
        name: str = "autoencoder",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        if noise not in NOISES:
            raise ValueError(f"noise must be one of {NOISES}; got {noise!r}.")
        if not 0.0 <= noise_level < 1.0:
            raise ValueError(f"noise_level must be in [0, 1); got {noise_level!r}.")
        if loss not in ("mse", "bce"):
            raise ValueError(f"loss must be 'mse' or 'bce'; got {loss!r}.")
        if decoder_width < 1:
            raise ValueError(f"decoder_width must be >= 1; got {decoder_width!r}.")
        h, w, c = image_shape_of(encoder, "Autoencoder")
        self.noise, self.noise_level, self.loss_kind = noise, float(noise_level), loss
        seed_hw = (max(1, -(-h // 8)), max(1, -(-w // 8)))
        self.decoder = keras.Sequential(
            [
                keras.Input((feature_dim_of(encoder),)),
                keras.layers.Dense(seed_hw[0] * seed_hw[1] * decoder_width, name="seed"),
                keras.layers.ReLU(),
                keras.layers.Reshape(seed_hw + (decoder_width,)),
                upsampling_decoder(
                    seed_hw + (decoder_width,), (h, w), c, decoder_width, "upsampling"
                ),
            ],
            name="decoder",
        )
        self.error_tracker = keras.metrics.Mean(name="reconstruction_error")

    def reconstruct(self, images, training: bool = False):
        """Reconstruction in [0, 1] ``[B, H, W, C]`` of (uncorrupted) images."""
        return ops.sigmoid(self.decoder(self.encoder(images, training=training), training=training))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        images = x["image"]
        inputs = corrupt(images, self.noise, self.noise_level) if training else images
        logits = self.decoder(self.encoder(inputs, training=training), training=training)
        recon = ops.sigmoid(logits)
        self.error_tracker.update_state(ops.mean(ops.square(images - recon)))
        if self.loss_kind == "bce":
            return reconstruction_loss(images, logits, "bce")
        return reconstruction_loss(images, recon, "mse")
