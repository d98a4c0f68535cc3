"""MixMatch (Berthelot et al. 2019)."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from tfless.augment import rng
from tfless.losses.consistency import (
    linear_rampup,
    mixmatch_mixup,
    sharpen,
    soft_cross_entropy,
    softmax_mse,
)
from tfless.methods.semi.common import SemiMethod, view_list


class MixMatch(SemiMethod):
    """MixMatch: guessed, sharpened labels for K augmentations, MixUp of everything, L2 loss.

    Berthelot et al. 2019, "MixMatch: A Holistic Approach to Semi-Supervised
    Learning" (NeurIPS), Algorithm 1. Per step:

    1. guess ``q = Sharpen(mean_k softmax(f(u_k)), T)`` from the K weak views of each
       unlabeled image (no gradient through the guess);
    2. ``W = Shuffle(X_hat ++ U_hat)`` where ``X_hat`` are labeled images with one-hot
       targets and ``U_hat`` the K views with target ``q``;
    3. ``X' = MixUp(X_hat, W[:|X|])``, ``U' = MixUp(U_hat, W[|X|:])`` with
       ``lam ~ Beta(alpha, alpha)``, ``lam' = max(lam, 1 - lam)``;
    4. ``loss = CE(X') + lambda_u * ramp(t) * ||q' - softmax(f(u'))||^2 / (C |U'|)``.

    Paper defaults (Sec. 4): ``K=2``, ``T=0.5``, ``alpha=0.75``, ``lambda_u=75`` for
    CIFAR-10 (150 CIFAR-100, 250 SVHN, 50 STL-10 in the authors' runs), lambda_u
    ramped up linearly over the first 16,000 steps; Adam lr 0.002, EMA 0.999 for
    evaluation and decoupled weight decay 0.02 (times the lr), which live in the
    optimizer config. X' and U' go through the network in one batch.

    Reads ``labeled.{image, label}`` and ``unlabeled.views`` (a list of K weak views,
    e.g. from the ``multi_weak`` view builder).

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: number of classes.
      temperature: sharpening temperature T > 0.
      alpha: MixUp Beta parameter > 0.
      lambda_u: maximum weight of the unlabeled L2 loss.
      rampup_steps: steps of the linear ramp-up of lambda_u (0 = none).
      weight_decay: coupled L2 coefficient on kernels (0: the recipe decays in the optimizer).
    """

    xla_unsupported = "MixUp pairs examples with StatelessShuffle, which XLA on CPU lacks"

    unlabeled_keys = ("views",)

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        temperature: float = 0.5,
        alpha: float = 0.75,
        lambda_u: float = 75.0,
        rampup_steps: int = 16000,
        weight_decay: float = 0.0,
        name: str = "mixmatch",
        **kwargs,
    ):
        super().__init__(encoder, num_classes, weight_decay=weight_decay, name=name, **kwargs)
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0; got {temperature!r}.")
        if not alpha > 0:
            raise ValueError(f"alpha (MixUp Beta parameter) must be > 0; got {alpha!r}.")
        if lambda_u < 0:
            raise ValueError(f"lambda_u must be >= 0; got {lambda_u!r}.")
        if rampup_steps < 0:
            raise ValueError(f"rampup_steps must be >= 0; got {rampup_steps!r}.")
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self.lambda_u = float(lambda_u)
        self.rampup_steps = int(rampup_steps)
        self.unlabeled_weight_tracker = keras.metrics.Mean(name="unlabeled_weight")

    def guess_labels(self, views, training=True):
        """Sharpened mean prediction ``[U, C]`` over the K views (each ``[U, H, W, C]``)."""
        views = view_list(views)
        k = len(views)
        logits = self.logits(ops.concatenate(views, axis=0), training=training)
        probs = ops.softmax(logits, axis=-1)
        probs = ops.mean(ops.stack(ops.split(probs, k, axis=0), axis=0), axis=0)
        return ops.stop_gradient(sharpen(probs, self.temperature))

    def semi_loss(self, labeled, unlabeled, training=True):
        views = view_list(unlabeled["views"])
        k = len(views)
        x = labeled["image"]
        n_lab = ops.shape(x)[0]
        y = ops.one_hot(labeled["label"], self.num_classes)
        q = self.guess_labels(views, training=training)

        all_x = ops.concatenate([x] + views, axis=0)
        all_y = ops.concatenate([y] + [q] * k, axis=0)
        n = ops.shape(all_x)[0]
        perm = rng.shuffle(tf.range(n))
        lam = rng.beta([n], self.alpha)
        mixed_x, mixed_y = mixmatch_mixup(
            all_x, all_y, ops.take(all_x, perm, axis=0), ops.take(all_y, perm, axis=0), lam
        )
        logits = self.logits(mixed_x, training=training)
        logits_x, logits_u = logits[:n_lab], logits[n_lab:]
        targets_x, targets_u = mixed_y[:n_lab], mixed_y[n_lab:]

        loss_x = soft_cross_entropy(targets_x, logits_x)
        loss_u = softmax_mse(logits_u, targets_u)
        weight = self.lambda_u * linear_rampup(self.step(), self.rampup_steps)
        self.labeled_loss_tracker.update_state(loss_x)
        self.accuracy_tracker.update_state(ops.argmax(targets_x, axis=-1), logits_x)
        self.unlabeled_loss_tracker.update_state(loss_u)
        self.unlabeled_weight_tracker.update_state(weight)
        return loss_x + weight * loss_u
