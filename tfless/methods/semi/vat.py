"""Virtual Adversarial Training (Miyato et al. 2018)."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from tfless.augment import rng
from tfless.layers.batchnorm import preserve_bn_statistics
from tfless.losses.consistency import entropy_logits, kl_divergence_logits, vat_direction
from tfless.methods.semi.common import SemiMethod


class VAT(SemiMethod):
    """VAT: smoothness of the prediction against the most sensitive small perturbation.

    Miyato, Maeda, Koyama & Ishii 2018, "Virtual Adversarial Training: A
    Regularization Method for Supervised and Semi-Supervised Learning" (TPAMI).
    For each unlabeled image, power iteration finds the direction ``d`` that
    most changes the prediction (:func:`tfless.losses.consistency.vat_direction`),
    and the local distributional smoothness
    ``LDS = KL(p(y|u) || p(y|u + eps d))`` (prediction on ``u`` held fixed) is
    minimised::

        loss = CE(labeled) + alpha * LDS(unlabeled) [+ H(p(y|u)) with entropy_min]

    Paper defaults: ``xi = 1e-6``, one power iteration, ``alpha = 1``; ``eps`` is set
    per dataset: 8.0 on ZCA-whitened CIFAR-10 and 3.5 on SVHN in [0, 1] with
    augmentation (10.0 / 2.5 without), 2.0 on MNIST (authors' code,
    takerum/vat_tf). ``entropy_min=True`` is their VAT+EntMin. As in the authors' code,
    only the clean forward pass updates batch-norm moving statistics; the perturbed
    passes normalize with their own batch statistics and leave the averages unchanged.

    Reads ``labeled.{image, label}`` and ``unlabeled.<view_key>``.

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: number of classes.
      eps: L2 norm of the adversarial perturbation per image (> 0).
      xi: finite-difference step of the power iteration (> 0).
      num_iterations: power iterations (>= 1).
      alpha: weight of the LDS loss.
      entropy_min: add entropy minimisation on unlabeled predictions.
      view_key: key of the unlabeled view.
      weight_decay: coupled L2 coefficient on kernels.
    """

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        eps: float = 8.0,
        xi: float = 1e-6,
        num_iterations: int = 1,
        alpha: float = 1.0,
        entropy_min: bool = False,
        view_key: str = "image",
        weight_decay: float = 0.0,
        name: str = "vat",
        **kwargs,
    ):
        super().__init__(encoder, num_classes, weight_decay=weight_decay, name=name, **kwargs)
        if not eps > 0:
            raise ValueError(f"eps must be > 0; got {eps!r}.")
        if not xi > 0:
            raise ValueError(f"xi must be > 0; got {xi!r}.")
        if int(num_iterations) < 1:
            raise ValueError(f"num_iterations must be >= 1; got {num_iterations!r}.")
        if alpha < 0:
            raise ValueError(f"alpha must be >= 0; got {alpha!r}.")
        self.eps = float(eps)
        self.xi = float(xi)
        self.num_iterations = int(num_iterations)
        self.alpha = float(alpha)
        self.entropy_min = bool(entropy_min)
        self.view_key = str(view_key)
        self.unlabeled_keys = (self.view_key,)
        self.entropy_tracker = keras.metrics.Mean(name="unlabeled_entropy")

    def semi_loss(self, labeled, unlabeled, training=True):
        x_u = unlabeled[self.view_key]
        n_lab = ops.shape(labeled["image"])[0]
        logits = self.logits(ops.concatenate([labeled["image"], x_u], axis=0), training=training)
        loss_x = self.track_labeled(labeled["label"], logits[:n_lab])
        logits_u = logits[n_lab:]

        def logits_fn(images):
            return self.logits(images, training=training)

        # The perturbed passes normalize with batch statistics but do not move the running
        # averages (the authors' ``update_batch_stats=False``): only the clean pass does.
        with preserve_bn_statistics(self):
            # Drawn through rng, so that a step's start resumes exactly.
            start = rng.normal(tf.shape(x_u), dtype=x_u.dtype)
            d = vat_direction(logits_fn, x_u, logits_u, self.xi, self.num_iterations, initial=start)
            logits_adv = logits_fn(x_u + self.eps * d)
        lds = kl_divergence_logits(ops.stop_gradient(logits_u), logits_adv)
        ent = entropy_logits(logits_u)
        self.unlabeled_loss_tracker.update_state(lds)
        self.entropy_tracker.update_state(ent)
        loss = loss_x + self.alpha * lds
        if self.entropy_min:
            loss = loss + ent
        return loss
