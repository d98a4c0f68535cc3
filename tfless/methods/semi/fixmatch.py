"""FixMatch (Sohn et al. 2020)."""

from __future__ import annotations

import keras
from keras import ops

from tfless.losses.consistency import confidence_mask, masked_cross_entropy
from tfless.methods.semi.common import SemiMethod, validate_threshold


class FixMatch(SemiMethod):
    """FixMatch: pseudo-labels from weak views, cross-entropy on strong views above a threshold.

    Sohn et al. 2020, "FixMatch: Simplifying Semi-Supervised Learning with
    Consistency and Confidence" (NeurIPS). For each unlabeled image the
    prediction on a weakly augmented view (flip + translate) gives a hard
    pseudo-label, kept when its probability is at least ``threshold``; the
    model is trained to predict it on a strongly augmented view (RandAugment or
    CTAugment + Cutout)::

        loss = CE(labeled) + lambda_u * mean_b(1[max p_weak >= tau] CE(argmax p_weak, strong))

    Labeled, weak and strong images go through the network in one batch (so
    batch norm sees all of them, as in the paper's code). Paper defaults:
    ``threshold`` (tau) 0.95, ``lambda_u`` 1, ``mu`` 7 (the data pipeline's
    unlabeled-to-labeled ratio), coupled weight decay 5e-4 (CIFAR-10; 1e-3 for
    CIFAR-100), SGD nesterov 0.9 at lr 0.03 with the schedule
    ``lr cos(7 pi k / 16K)`` and an EMA 0.999 of the weights for evaluation
    (the last three live in the optimizer config).

    Reads ``labeled.{image, label}``, ``unlabeled.{image_weak, image_strong}`` and,
    if present, ``unlabeled.true_label`` (monitoring only).

    Metrics: ``labeled_loss``, ``unlabeled_loss``, ``mask_rate`` (share of
    unlabeled images whose pseudo-label passes the threshold),
    ``pseudo_label_accuracy`` (accuracy of the pseudo-labels that pass the
    threshold, against ``true_label``; images with ``true_label < 0``, which have no
    label, are left out), ``accuracy`` (labeled batch).

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: number of classes.
      threshold: confidence threshold tau in (0, 1).
      lambda_u: weight of the unlabeled loss (>= 0).
      weight_decay: coupled L2 coefficient on kernels.
    """

    unlabeled_keys = ("image_weak", "image_strong")

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        threshold: float = 0.95,
        lambda_u: float = 1.0,
        weight_decay: float = 5e-4,
        name: str = "fixmatch",
        **kwargs,
    ):
        super().__init__(encoder, num_classes, weight_decay=weight_decay, name=name, **kwargs)
        self.threshold = validate_threshold(threshold)
        if lambda_u < 0:
            raise ValueError(f"lambda_u must be >= 0; got {lambda_u!r}.")
        self.lambda_u = float(lambda_u)
        self.mask_rate_tracker = keras.metrics.Mean(name="mask_rate")
        self.pseudo_label_accuracy_tracker = keras.metrics.Mean(name="pseudo_label_accuracy")

    def semi_loss(self, labeled, unlabeled, training=True):
        n_lab = ops.shape(labeled["image"])[0]
        n_unl = ops.shape(unlabeled["image_weak"])[0]
        images = ops.concatenate(
            [labeled["image"], unlabeled["image_weak"], unlabeled["image_strong"]], axis=0
        )
        logits = self.logits(images, training=training)
        logits_x = logits[:n_lab]
        logits_weak = logits[n_lab : n_lab + n_unl]
        logits_strong = logits[n_lab + n_unl :]
        loss_x = self.track_labeled(labeled["label"], logits_x)

        probs_weak = ops.stop_gradient(ops.softmax(logits_weak, axis=-1))
        pseudo, mask = confidence_mask(probs_weak, self.threshold)
        loss_u = masked_cross_entropy(pseudo, logits_strong, mask)
        self.unlabeled_loss_tracker.update_state(loss_u)
        self.mask_rate_tracker.update_state(ops.mean(mask))
        if "true_label" in unlabeled:
            true_label = ops.cast(unlabeled["true_label"], "int32")
            correct = ops.cast(ops.equal(pseudo, true_label), "float32")
            # Images without a label (true_label -1, e.g. STL-10's unlabelled split) are
            # left out of the accuracy instead of counting as wrong.
            known = ops.cast(ops.greater_equal(true_label, 0), "float32")
            self.pseudo_label_accuracy_tracker.update_state(correct, sample_weight=mask * known)
        return loss_x + self.lambda_u * loss_u
