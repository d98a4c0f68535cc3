"""Colorization as classification of quantized ab colours."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfless.losses.pretext import annealed_mean, rebalanced_color_loss, rebalancing_weights
from tfless.methods.pretext.base import PretextMethod, image_shape_of
from tfless.methods.pretext.decoder import feature_map_model, upsampling_decoder
from tfless.methods.pretext.ops import ab_gamut_bins, rgb_to_lab, soft_encode_ab


class Colorization(PretextMethod):
    """Colorful Image Colorization (Zhang, Isola & Efros, ECCV 2016).

    Images are converted to CIE Lab in-graph. The encoder sees only the lightness:
    ``L / 100`` in [0, 1], replicated over the encoder's channels (a gray RGB image),
    so the exported encoder keeps the usual contract (images in [0, 1], any colour; it
    was trained on gray ones, which is what the paper's transfer experiments feed it).
    A decoder on the encoder's last feature map predicts, at 1/``output_stride`` of
    the input resolution (1/4 in the paper: 56x56 for 224x224), a distribution over
    the quantized ab bins. The target is the ground-truth ab (average-pooled to that
    resolution) soft-encoded on its 5 nearest bins with a Gaussian of sigma 5.

    Bins: grid size 10 in ab, keeping the in-gamut bins of the sRGB cube (261 bins,
    see :func:`tfless.methods.pretext.ops.ab_gamut_bins`; the paper's 313 come from
    its own, unspecified gamut computation).

    Class rebalancing (Eq. 3-4): each pixel's loss is weighted by
    ``w ∝ ((1 - lam) p + lam / Q)^-1`` of its target bin, lam = 0.5, with ``p`` the
    empirical bin prior. Pass ``class_prior`` to fix it (e.g. from
    :meth:`estimate_prior`); otherwise it is the running, replica-summed histogram of
    the soft-encoded targets of all training batches seen so far (soft encoding
    already smooths it with the paper's sigma-5 Gaussian).

    Decoding (Eq. 5): :meth:`predict_ab` returns the annealed mean with T = 0.38.

    Reads ``image`` ``[B, H, W, 3]`` RGB (grayscale ``[B, H, W, 1]`` is accepted as gray
    RGB, which makes the task degenerate: all targets are a = b = 0). Trackers: ``loss``,
    ``pretext_accuracy`` (per-pixel top-1 bin vs the target's most likely bin),
    ``ab_error`` (mean absolute error of the annealed-mean ab, in Lab units).

    Args:
      encoder: tfless backbone built for ``(H, W, 1)`` or ``(H, W, 3)`` images.
      output_stride: input size / prediction size.
      rebalance_lambda: lam of the uniform mixture (0.5; 1 disables rebalancing).
      temperature: T of the annealed mean (0.38).
      class_prior: optional fixed prior ``[Q]`` over the bins.
      decoder_width: channels of the decoder blocks.
    """

    def __init__(
        self,
        encoder: keras.Model,
        output_stride: int = 4,
        rebalance_lambda: float = 0.5,
        temperature: float = 0.38,
        class_prior=None,
        decoder_width: int = 128,
        name: str = "colorization",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        h, w, c = image_shape_of(encoder, "Colorization")
        if c not in (1, 3):
            raise ValueError(f"Colorization: the encoder must take 1 or 3 channels; got {c}.")
        if output_stride < 1 or h % output_stride or w % output_stride:
            raise ValueError(
                f"output_stride must be >= 1 and divide the image size {h}x{w}; "
                f"got {output_stride!r}."
            )
        if not 0.0 <= rebalance_lambda <= 1.0:
            raise ValueError(f"rebalance_lambda must be in [0, 1]; got {rebalance_lambda!r}.")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0; got {temperature!r}.")
        self.bins = ab_gamut_bins()
        q = len(self.bins)
        if class_prior is not None:
            class_prior = np.asarray(class_prior, np.float32)
            if class_prior.shape != (q,) or class_prior.min() < 0 or class_prior.sum() <= 0:
                raise ValueError(
                    f"class_prior must be a non-negative [{q}] vector with a positive sum; "
                    f"got shape {class_prior.shape}."
                )
        self.encoder_channels = c
        self.output_stride = int(output_stride)
        self.out_size = (h // output_stride, w // output_stride)
        self.rebalance_lambda = float(rebalance_lambda)
        self.temperature = float(temperature)
        self.fixed_prior = class_prior
        self.feature_map = feature_map_model(encoder, "Colorization")
        fmap_shape = self.feature_map.output_shape[1:]
        self.decoder = upsampling_decoder(fmap_shape, self.out_size, q, decoder_width, "decoder")
        # Summed over replicas on assign_add (aggregation "sum"), so every replica holds the
        # global histogram and computes the same weights.
        self.prior_counts = self.add_weight(
            shape=(q,), initializer="zeros", trainable=False, aggregation="sum", name="prior_counts"
        )
        self.pretext_accuracy_tracker = keras.metrics.Mean(name="pretext_accuracy")
        self.ab_error_tracker = keras.metrics.Mean(name="ab_error")

    # ------------------------------------------------------------------ pieces
    def lightness_input(self, images):
        """What the encoder sees: ``L / 100`` ``[B, H, W, C_enc]`` in [0, 1]."""
        if images.shape[-1] == 1:
            images = ops.repeat(images, 3, axis=-1)
        light = rgb_to_lab(images)[..., :1] / 100.0
        return ops.repeat(light, self.encoder_channels, axis=-1)

    def targets(self, images):
        """Ground-truth ab ``[B, h, w, 2]`` at prediction resolution and its soft encoding
        ``[B, h, w, Q]``."""
        if images.shape[-1] == 1:
            images = ops.repeat(images, 3, axis=-1)
        ab = rgb_to_lab(images)[..., 1:]
        s = self.output_stride
        if s > 1:
            ab = tf.nn.avg_pool2d(ab, s, s, "VALID")
        return ab, soft_encode_ab(ab, self.bins)

    def color_logits(self, images, training: bool = False):
        """Bin logits ``[B, h, w, Q]`` of RGB images ``[B, H, W, 3]``."""
        fmap = self.feature_map(self.lightness_input(images), training=training)
        return self.decoder(fmap, training=training)

    def predict_ab(self, images):
        """Annealed-mean ab prediction ``[B, h, w, 2]`` (T = ``temperature``)."""
        return annealed_mean(self.color_logits(images), self.bins, self.temperature)

    def class_weights(self):
        """Current rebalancing weights ``[Q]``."""
        if self.fixed_prior is not None:
            prior = ops.convert_to_tensor(self.fixed_prior)
        else:
            # A tiny floor keeps bins never seen yet finite; they get the largest weight but
            # no target has them as argmax, so they never weigh a pixel.
            prior = ops.convert_to_tensor(self.prior_counts) + 1e-6
        return rebalancing_weights(prior / ops.sum(prior), self.rebalance_lambda)

    @staticmethod
    def estimate_prior(images, batch_size: int = 256) -> np.ndarray:
        """Empirical bin prior ``[Q]`` of RGB images ``[N, H, W, 3]`` (soft-encoded counts)."""
        bins = ab_gamut_bins()
        total = np.zeros(len(bins), np.float64)
        for start in range(0, len(images), batch_size):
            ab = rgb_to_lab(images[start : start + batch_size])[..., 1:]
            total += tf.reduce_sum(soft_encode_ab(ab, bins), [0, 1, 2]).numpy()
        return (total / total.sum()).astype(np.float32)

    # ----------------------------------------------------------------- training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        images = x["image"]
        if images.shape[-1] == 1:
            # A grayscale dataset is gray RGB: every target is the a = b = 0 bin, so the
            # task is degenerate (kept runnable so one config schema serves every dataset).
            images = ops.repeat(images, 3, axis=-1)
        if images.shape[-1] != 3:
            raise ValueError(
                f"Colorization needs RGB (or grayscale) images [B, H, W, 3]; got {images.shape}."
            )
        ab, soft = self.targets(images)
        if training and self.fixed_prior is None:
            self.prior_counts.assign_add(ops.sum(ops.stop_gradient(soft), axis=[0, 1, 2]))
        logits = self.color_logits(images, training=training)
        loss = rebalanced_color_loss(logits, soft, ops.stop_gradient(self.class_weights()))
        hit = ops.cast(ops.argmax(logits, -1) == ops.argmax(soft, -1), "float32")
        self.pretext_accuracy_tracker.update_state(ops.mean(hit))
        decoded = annealed_mean(ops.stop_gradient(logits), self.bins, self.temperature)
        self.ab_error_tracker.update_state(ops.mean(ops.abs(decoded - ab)))
        return loss
