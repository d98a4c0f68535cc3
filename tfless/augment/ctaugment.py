"""CTAugment: augmentation magnitudes learned online from the model's own errors.

Berthelot et al. 2020, "ReMixMatch" (ICLR), Sec. 3.2.2, and Sohn et al. 2020,
"FixMatch" (NeurIPS), App. D. Each op's magnitude range is cut into bins, each
bin has a weight (initially 1). To augment, two ops are drawn uniformly and
each gets a magnitude bin drawn in proportion to its weight, after the weights
are divided by their maximum and those below a threshold (0.8) are zeroed;
Cutout follows. To learn the weights, labeled "probe" images are augmented
with uniformly drawn bins, and every bin used moves towards how well the model
still classifies the probe: ``w <- decay w + (1 - decay) (1 - 0.5 ||p - onehot(y)||_1)``
(decay 0.99).

This version runs in-graph (inside ``train_step``) on batches and is built on
:func:`tfless.augment.ops.apply_per_image`. Differences from the paper's
numpy version: each op has one magnitude parameter on tfless's 0..10 scale
(signs of geometric ops are random per image; translations reach 0.3 of the
image side, the papers' range, ``tfless.augment.ops.FIXMATCH_TRANSLATE_FRACTION``,
where google-research/fixmatch ``libml/ctaugment.py`` passes 0.3 to Pillow's affine
as a pixel offset), ``Rescale`` and ``Smooth`` are
not in the op library, and the weights of a batch of probes are updated at once:
a bin used ``n`` times with mean proximity ``r`` becomes
``decay^n w + (1 - decay^n) r`` (exactly the sequential update when the
proximities are equal). Under ``tf.distribute`` the probe statistics are summed
over replicas first, so every replica holds the same weights.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.augment import rng
from tfless.augment.ops import (
    FIXMATCH_TRANSLATE_FRACTION,
    apply_per_image,
    from_float255,
    to_float255,
)
from tfless.layers.momentum import momentum_update

#: The CTAugment op list of FixMatch (Table 12) that tfless's op library provides.
CTA_OPS = (
    "AutoContrast",
    "Brightness",
    "Color",
    "Contrast",
    "Equalize",
    "Identity",
    "Invert",
    "Posterize",
    "Rotate",
    "Sharpness",
    "ShearX",
    "ShearY",
    "Solarize",
    "TranslateX",
    "TranslateY",
)


class CTAugment(keras.layers.Layer):
    """Control-theory augmentation with per-op, per-magnitude-bin weights learned online.

    Args:
      ops: op names of :data:`tfless.augment.ops.OPS` to choose from.
      num_bins: magnitude bins per op (17 in the paper).
      depth: ops applied per image (2).
      threshold: weights below ``threshold * max`` are never sampled (0.8).
      decay: EMA decay of the bin weights (0.99).
      cutout: apply Cutout (magnitude 10) after the ops, as ReMixMatch/FixMatch do.
      translate_fraction: largest TranslateX/Y shift as a fraction of the image side
        (0.3: "ReMixMatch", arXiv:1911.09785, and "FixMatch", arXiv:2001.07685, Table 12).

    Attributes:
      rates: non-trainable ``[num_ops, num_bins]`` bin weights in [0, 1].
    """

    def __init__(
        self,
        ops=CTA_OPS,
        num_bins: int = 17,
        depth: int = 2,
        threshold: float = 0.8,
        decay: float = 0.99,
        cutout: bool = True,
        translate_fraction: float = FIXMATCH_TRANSLATE_FRACTION,
        name: str = "ctaugment",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        from tfless.augment.ops import OP_NAMES

        unknown = [o for o in ops if o not in OP_NAMES]
        if unknown or not ops:
            raise ValueError(f"Unknown CTAugment op(s) {unknown}; expected names from {OP_NAMES}.")
        if int(num_bins) < 2:
            raise ValueError(f"num_bins must be >= 2; got {num_bins!r}.")
        if int(depth) < 1:
            raise ValueError(f"depth must be >= 1; got {depth!r}.")
        if not 0.0 <= threshold < 1.0:
            raise ValueError(f"threshold must be in [0, 1); got {threshold!r}.")
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1); got {decay!r}.")
        if not 0.0 <= translate_fraction <= 1.0:
            raise ValueError(f"translate_fraction must be in [0, 1]; got {translate_fraction!r}.")
        self.translate_fraction = float(translate_fraction)
        self.op_names = tuple(ops)
        self.num_bins = int(num_bins)
        self.depth = int(depth)
        self.threshold = float(threshold)
        self.decay = float(decay)
        self.cutout = bool(cutout)
        self.rates = self.add_weight(
            shape=(len(self.op_names), self.num_bins),
            initializer="ones",
            trainable=False,
            name="rates",
        )

    def probabilities(self):
        """``[num_ops, num_bins]`` sampling probabilities of the bins of each op."""
        # The small floor keeps an op usable when all its weights have collapsed to 0.
        p = self.rates + (1.0 - self.decay)
        p = p / tf.reduce_max(p, axis=1, keepdims=True)
        p = tf.where(p < self.threshold, tf.zeros_like(p), p)
        return p / tf.reduce_sum(p, axis=1, keepdims=True)

    def _sample(self, batch, probe: bool):
        ops = rng.uniform([self.depth, batch], 0, len(self.op_names), dtype=tf.int32)
        if probe:
            bins = rng.uniform([self.depth, batch], 0, self.num_bins, dtype=tf.int32)
        else:
            logp = tf.math.log(tf.gather(self.probabilities(), ops) + 1e-12)  # [depth, B, bins]
            flat = tf.reshape(logp, [-1, self.num_bins])
            bins = tf.reshape(rng.categorical(flat, 1, dtype=tf.int32), [self.depth, batch])
        return ops, bins

    def _apply(self, images, ops, bins):
        x = to_float255(images)
        scale = 10.0 / (self.num_bins - 1)
        for i in range(self.depth):
            mags = tf.cast(bins[i], tf.float32) * scale
            x = apply_per_image(
                x,
                ops[i],
                mags,
                self.op_names,
                quantized=False,
                translate_fraction=self.translate_fraction,
            )
        if self.cutout:
            batch = tf.shape(x)[0]
            x = apply_per_image(
                x, tf.zeros([batch], tf.int32), tf.fill([batch], 10.0), ["Cutout"], False
            )
        return from_float255(x, images.dtype)

    def call(self, images):
        """Strong augmentation of ``images`` ``[B, H, W, C]`` (float32 in [0, 1])."""
        ops, bins = self._sample(tf.shape(images)[0], probe=False)
        return self._apply(images, ops, bins)

    def probe(self, images):
        """Probe augmentation with uniform bins (no Cutout).

        Returns:
          ``(augmented [B, H, W, C], ops [depth, B], bins [depth, B])``; pass ``ops`` and
          ``bins`` to :meth:`update` with the model's predictions on the probes.
        """
        ops, bins = self._sample(tf.shape(images)[0], probe=True)
        cut, self.cutout = self.cutout, False
        try:
            out = self._apply(images, ops, bins)
        finally:
            self.cutout = cut
        return out, ops, bins

    def update(self, probs, labels, ops, bins) -> None:
        """Moves the weights of the bins used by the probes towards their proximity.

        Args:
          probs: ``[B, C]`` model predictions on the probes.
          labels: int ``[B]`` true labels.
          ops, bins: ``[depth, B]`` from :meth:`probe`.
        """
        onehot = tf.one_hot(labels, tf.shape(probs)[1], dtype=probs.dtype)
        proximity = 1.0 - 0.5 * tf.reduce_sum(tf.abs(probs - onehot), axis=1)  # [B]
        flat = ops * self.num_bins + bins  # [depth, B]
        size = len(self.op_names) * self.num_bins
        prox = tf.tile(proximity[None], [self.depth, 1])
        sums = tf.math.unsorted_segment_sum(tf.reshape(prox, [-1]), tf.reshape(flat, [-1]), size)
        counts = tf.math.unsorted_segment_sum(
            tf.ones_like(tf.reshape(prox, [-1])), tf.reshape(flat, [-1]), size
        )
        ctx = tf.distribute.get_replica_context()
        if ctx is not None:
            sums, counts = ctx.all_reduce(tf.distribute.ReduceOp.SUM, [sums, counts])
        shape = self.rates.shape
        sums, counts = tf.reshape(sums, shape), tf.reshape(counts, shape)
        mean = sums / tf.maximum(counts, 1.0)
        keep = tf.pow(self.decay, counts)
        new = keep * self.rates + (1.0 - keep) * mean
        # A plain assignment that is also legal in a replica context (decay 0).
        momentum_update([self.rates], [new], 0.0)
