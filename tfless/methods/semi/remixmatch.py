"""ReMixMatch (Berthelot et al. 2020)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfless.augment import rng
from tfless.augment.ctaugment import CTAugment
from tfless.layers.momentum import momentum_update
from tfless.losses.consistency import (
    distribution_alignment,
    linear_rampup,
    mixmatch_mixup,
    sharpen,
    soft_cross_entropy,
)
from tfless.methods.semi.common import SemiMethod


def rotate_batch(images, k):
    """Rotates image ``b`` of a square batch ``[B, H, H, C]`` by ``k[b] * 90`` degrees."""
    rotations = tf.stack([tf.image.rot90(images, i) for i in range(4)], axis=0)  # [4, B, ...]
    return tf.gather(tf.transpose(rotations, [1, 0, 2, 3, 4]), k, axis=1, batch_dims=1)


#: How ReMixMatch averages the model's predictions for distribution alignment.
ALIGNMENTS = ("window", "ema")


def roll_window(window, entry):
    """Drops the oldest row of ``window [N, C]``, appends ``entry [C]``; returns it and its
    renormalized row mean ``[C]``, the model marginal of the authors' code."""
    rolled = ops.concatenate([window[1:], ops.expand_dims(ops.cast(entry, window.dtype), 0)], 0)
    mean = ops.mean(rolled, axis=0)
    return rolled, mean / ops.sum(mean)


class ReMixMatch(SemiMethod):
    """ReMixMatch: MixMatch with distribution alignment and augmentation anchoring.

    Berthelot, Carlini, Cubuk, Kurakin, Sohn, Zhang & Raffel 2020, "ReMixMatch:
    Semi-Supervised Learning with Distribution Alignment and Augmentation
    Anchoring" (ICLR), Algorithm 1. Per step:

    1. the guess for an unlabeled image comes from its weak view:
       ``q = Sharpen(Normalize(p(y|u_weak) * p(y) / p~(y)), T)`` where ``p(y)`` is the
       labeled class distribution and ``p~(y)`` a running average of the model's
       predictions on unlabeled data (distribution alignment, see below);
    2. K strong (CTAugment) views of each unlabeled image are anchored to ``q``; labeled
       images are strongly augmented too;
    3. MixUp of labeled and strong unlabeled examples as in MixMatch, with cross-entropy
       (not L2) on the mixed unlabeled examples;
    4. ``loss = CE(X') + lambda_u CE(U') + lambda_u1 CE(u_1, q) + lambda_r CE(rot(u_1))``
       where ``u_1`` is the first strong view before MixUp and the last term predicts
       its rotation (0/90/180/270 degrees) with a separate 4-way head.

    CTAugment learns online from the model, so it runs in-graph here: strong views
    are made inside the step from the weak views, and a probe batch (labeled images
    with uniformly drawn magnitudes) updates its bin weights every step.

    Paper / authors' code defaults: ``K = 8``, ``T = 0.5``, ``alpha = 0.75``,
    ``lambda_u = 1.5`` (w_match), ``lambda_u1 = 0.5`` (w_kl), ``lambda_r = 0.5``
    (w_rot); the two unlabeled terms ramp up linearly over 1024 kimg (16,384 steps at
    batch 64); Adam lr 0.002, decoupled weight decay 0.02 and EMA 0.999 for evaluation
    (optimizer config).

    Distribution alignment follows the authors' code (google-research/remixmatch): ``p~(y)``
    is the mean of the last ``alignment_window = 128`` batch-mean predictions, held in a
    ``[128, C]`` buffer that starts with uniform rows and is rolled every step; ``p(y)`` is
    the known class distribution of the labeled set (``label_distribution``) or, when that
    is not given, an EMA (``marginal_decay``) of the labeled batches' label frequencies, as
    that code does for a dataset without a known distribution. ``alignment="ema"`` keeps an
    EMA of the predictions instead, the running average the paper's text describes.

    Reads ``labeled.{image, label}`` and ``unlabeled.<view_key>`` (the weak view; square
    images).

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: number of classes.
      num_strong: K strong views per unlabeled image.
      temperature: sharpening temperature.
      alpha: MixUp Beta parameter.
      lambda_u, lambda_u1, lambda_r: loss weights (see above).
      rampup_steps: linear ramp-up of ``lambda_u`` and ``lambda_u1``.
      alignment: ``"window"`` (authors' code) or ``"ema"``: how ``p~(y)`` is averaged.
      alignment_window: batches in the ``"window"`` average (128).
      label_distribution: ``[C]`` class frequencies of the labeled set, the fixed ``p(y)``
        (default: an EMA of the labeled batches).
      marginal_decay: EMA decay of ``p(y)`` without ``label_distribution`` and of
        ``p~(y)`` with ``alignment="ema"``.
      ctaugment: a :class:`tfless.augment.ctaugment.CTAugment` (default: the paper's).
      cta_ops: op names for the default CTAugment (configs pass names, not objects).
      view_key: key of the weak unlabeled view (``image`` with the ``flip_crop`` views).
      weight_decay: coupled L2 coefficient on kernels.
    """

    xla_unsupported = "MixUp pairs examples with StatelessShuffle, which XLA on CPU lacks"

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        num_strong: int = 8,
        temperature: float = 0.5,
        alpha: float = 0.75,
        lambda_u: float = 1.5,
        lambda_u1: float = 0.5,
        lambda_r: float = 0.5,
        rampup_steps: int = 16384,
        marginal_decay: float = 0.999,
        alignment: str = "window",
        alignment_window: int = 128,
        label_distribution=None,
        ctaugment: CTAugment | None = None,
        cta_ops: tuple | None = None,
        view_key: str = "image_weak",
        weight_decay: float = 0.0,
        name: str = "remixmatch",
        **kwargs,
    ):
        super().__init__(encoder, num_classes, weight_decay=weight_decay, name=name, **kwargs)
        if int(num_strong) < 1:
            raise ValueError(f"num_strong (K) must be >= 1; got {num_strong!r}.")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0; got {temperature!r}.")
        if not alpha > 0:
            raise ValueError(f"alpha (MixUp Beta parameter) must be > 0; got {alpha!r}.")
        for key, val in (("lambda_u", lambda_u), ("lambda_u1", lambda_u1), ("lambda_r", lambda_r)):
            if val < 0:
                raise ValueError(f"{key} must be >= 0; got {val!r}.")
        if not 0.0 <= marginal_decay < 1.0:
            raise ValueError(f"marginal_decay must be in [0, 1); got {marginal_decay!r}.")
        self.num_strong = int(num_strong)
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self.lambda_u = float(lambda_u)
        self.lambda_u1 = float(lambda_u1)
        self.lambda_r = float(lambda_r)
        self.rampup_steps = int(rampup_steps)
        self.marginal_decay = float(marginal_decay)
        if ctaugment is None:
            ctaugment = CTAugment() if cta_ops is None else CTAugment(ops=tuple(cta_ops))
        self.ctaugment = ctaugment
        self.view_key = str(view_key)
        self.unlabeled_keys = (self.view_key,)
        self.rotation_head = keras.layers.Dense(4, name="rotation_head")
        self.rotation_head.build((None, self.feature_dim))
        self._add_marginals(alignment, alignment_window, label_distribution)
        self.rotation_loss_tracker = keras.metrics.Mean(name="rotation_loss")
        self.anchor_loss_tracker = keras.metrics.Mean(name="anchor_loss")
        self.probe_accuracy_tracker = keras.metrics.Mean(name="probe_accuracy")

    def _add_marginals(self, alignment, window, label_distribution):
        """Creates ``p_data`` (p(y)), ``p_model`` (p~(y)) and the ``"window"`` buffer."""
        if alignment not in ALIGNMENTS:
            raise ValueError(f"alignment must be one of {ALIGNMENTS}; got {alignment!r}.")
        if int(window) < 1:
            raise ValueError(f"alignment_window must be >= 1; got {window!r}.")
        c = self.num_classes
        self.alignment = alignment
        self.alignment_window = int(window)
        self.fixed_p_data = label_distribution is not None
        prior = np.full(c, 1.0 / c, np.float32)
        if self.fixed_p_data:
            prior = np.asarray(label_distribution, np.float32)
            if prior.shape != (c,) or prior.min() < 0 or not prior.sum() > 0:
                raise ValueError(
                    f"label_distribution must be {c} non-negative frequencies with a positive "
                    f"sum; got {label_distribution!r}."
                )
            prior = prior / prior.sum()

        def weight(shape, value, name):
            init = keras.initializers.Constant(value)
            return self.add_weight(shape=shape, initializer=init, trainable=False, name=name)

        self.p_data = weight((c,), prior, "p_data")
        self.p_model = weight((c,), 1.0 / c, "p_model")
        self.p_model_window = None
        if alignment == "window":
            self.p_model_window = weight((self.alignment_window, c), 1.0 / c, "p_model_window")

    def _update_marginals(self, labels_onehot, probs_weak):
        batch_means = [ops.mean(labels_onehot, axis=0), ops.mean(probs_weak, axis=0)]
        ctx = tf.distribute.get_replica_context()
        if ctx is not None:
            batch_means = ctx.all_reduce(tf.distribute.ReduceOp.MEAN, batch_means)
        label_mean, prediction_mean = batch_means
        targets, sources = [], []
        if not self.fixed_p_data:
            targets.append(self.p_data)
            sources.append(label_mean)
        if self.alignment == "ema":
            targets.append(self.p_model)
            sources.append(prediction_mean)
        if targets:
            momentum_update(targets, sources, self.marginal_decay)
        if self.alignment == "window":
            window, p_model = roll_window(self.p_model_window, prediction_mean)
            # Decay 0 assigns, through the same replica-safe update as the EMAs.
            momentum_update([self.p_model_window, self.p_model], [window, p_model], 0.0)

    def guess_labels(self, probs_weak):
        """Aligned and sharpened guesses ``[U, C]`` from weak-view predictions ``[U, C]``."""
        aligned = distribution_alignment(probs_weak, self.p_model, self.p_data)
        return ops.stop_gradient(sharpen(aligned, self.temperature))

    def semi_loss(self, labeled, unlabeled, training=True):
        x, labels = labeled["image"], labeled["label"]
        u_weak = unlabeled[self.view_key]
        if x.shape[1] is not None and x.shape[1] != x.shape[2]:
            raise ValueError(f"ReMixMatch's rotation loss needs square images; got {x.shape[1:]}.")
        n_lab = ops.shape(x)[0]
        n_unl = ops.shape(u_weak)[0]
        y = ops.one_hot(labels, self.num_classes)

        # Weak-view guess; its batch also updates p~(y).
        probs_weak = ops.stop_gradient(ops.softmax(self.logits(u_weak, training=training)))
        q = self.guess_labels(probs_weak)
        if training:
            self._update_marginals(y, probs_weak)
            self._probe(x, labels)

        x_strong = self.ctaugment(x)
        u_strong = [self.ctaugment(u_weak) for _ in range(self.num_strong)]

        all_x = ops.concatenate([x_strong] + u_strong, axis=0)
        all_y = ops.concatenate([y] + [q] * self.num_strong, axis=0)
        n = ops.shape(all_x)[0]
        perm = rng.shuffle(tf.range(n))
        lam = rng.beta([n], self.alpha)
        mixed_x, mixed_y = mixmatch_mixup(
            all_x, all_y, ops.take(all_x, perm, axis=0), ops.take(all_y, perm, axis=0), lam
        )
        rot_k = rng.uniform([n_unl], 0, 4, dtype=tf.int32)
        u_rot = rotate_batch(u_strong[0], rot_k)

        feats = self.encoder(
            ops.concatenate([mixed_x, u_strong[0], u_rot], axis=0), training=training
        )
        logits = self.head(feats)
        logits_x = logits[:n_lab]
        logits_u = logits[n_lab:n]
        logits_u1 = logits[n : n + n_unl]
        rot_logits = self.rotation_head(feats[n + n_unl :])

        loss_x = soft_cross_entropy(mixed_y[:n_lab], logits_x)
        loss_u = soft_cross_entropy(mixed_y[n_lab:], logits_u)
        loss_u1 = soft_cross_entropy(q, logits_u1)
        loss_rot = ops.mean(
            keras.losses.sparse_categorical_crossentropy(rot_k, rot_logits, from_logits=True)
        )
        ramp = linear_rampup(self.step(), self.rampup_steps)
        self.labeled_loss_tracker.update_state(loss_x)
        self.accuracy_tracker.update_state(ops.argmax(mixed_y[:n_lab], axis=-1), logits_x)
        self.unlabeled_loss_tracker.update_state(loss_u)
        self.anchor_loss_tracker.update_state(loss_u1)
        self.rotation_loss_tracker.update_state(loss_rot)
        return (
            loss_x
            + ramp * (self.lambda_u * loss_u + self.lambda_u1 * loss_u1)
            + self.lambda_r * loss_rot
        )

    def _probe(self, images, labels):
        probes, ops_used, bins = self.ctaugment.probe(images)
        probs = ops.stop_gradient(ops.softmax(self.logits(probes, training=False)))
        self.ctaugment.update(probs, labels, ops_used, bins)
        hit = ops.cast(ops.equal(ops.argmax(probs, -1), ops.cast(labels, "int64")), "float32")
        self.probe_accuracy_tracker.update_state(ops.mean(hit))
