"""Pseudo-Label (Lee 2013)."""

from __future__ import annotations

import keras
from keras import ops

from tfless.losses.consistency import confidence_mask, masked_cross_entropy, pseudo_label_rampup
from tfless.methods.semi.common import SemiMethod, validate_threshold


class PseudoLabel(SemiMethod):
    """Pseudo-Label: the model's own confident hard predictions as targets on unlabeled data.

    Lee 2013, "Pseudo-Label: The Simple and Efficient Semi-Supervised Learning
    Method for Deep Neural Networks" (ICML Workshop on Challenges in
    Representation Learning). The pseudo-label is recomputed at every step
    from the same forward pass (no gradient through it)::

        loss = CE(labeled) + alpha(t) * mean_b(1[max p_b >= threshold] CE(argmax p_b, logits_b))

    ``alpha(t)`` is 0 until ``rampup_start`` (T1), rises linearly to ``alpha_f``
    at ``rampup_end`` (T2) and stays there. Lee's values: ``alpha_f = 3``,
    T1 = 100 and T2 = 600 epochs (set them in steps for your data), arg-max
    pseudo-labels (threshold 0). The confidence threshold 0.95 is the variant of
    Oliver et al. 2018 ("Realistic Evaluation of Deep Semi-Supervised Learning
    Algorithms") used by later benchmarks (USB), and the default here as the
    issue asks; ``threshold=0`` recovers Lee's plain arg-max.

    Reads ``labeled.{image, label}``, ``unlabeled.<view_key>`` (one weak view) and,
    if present, ``unlabeled.true_label`` (monitoring only; ``true_label < 0`` marks an
    image without a label, left out of ``pseudo_label_accuracy``).

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: number of classes.
      threshold: confidence threshold in [0, 1).
      alpha_f: final weight of the unlabeled loss.
      rampup_start: step T1 where the weight starts rising from 0.
      rampup_end: step T2 where it reaches ``alpha_f``.
      view_key: key of the unlabeled view.
      weight_decay: coupled L2 coefficient on kernels.
    """

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        threshold: float = 0.95,
        alpha_f: float = 3.0,
        rampup_start: int = 0,
        rampup_end: int = 10000,
        view_key: str = "image",
        weight_decay: float = 0.0,
        name: str = "pseudo_label",
        **kwargs,
    ):
        super().__init__(encoder, num_classes, weight_decay=weight_decay, name=name, **kwargs)
        self.threshold = validate_threshold(threshold, allow_zero=True)
        if alpha_f < 0:
            raise ValueError(f"alpha_f must be >= 0; got {alpha_f!r}.")
        if not 0 <= rampup_start <= rampup_end:
            raise ValueError(
                f"Expected 0 <= rampup_start <= rampup_end; got {rampup_start!r}, {rampup_end!r}."
            )
        self.alpha_f = float(alpha_f)
        self.rampup_start = int(rampup_start)
        self.rampup_end = int(rampup_end)
        self.view_key = str(view_key)
        self.unlabeled_keys = (self.view_key,)
        self.mask_rate_tracker = keras.metrics.Mean(name="mask_rate")
        self.pseudo_label_accuracy_tracker = keras.metrics.Mean(name="pseudo_label_accuracy")

    def semi_loss(self, labeled, unlabeled, training=True):
        n_lab = ops.shape(labeled["image"])[0]
        images = ops.concatenate([labeled["image"], unlabeled[self.view_key]], axis=0)
        logits = self.logits(images, training=training)
        loss_x = self.track_labeled(labeled["label"], logits[:n_lab])
        logits_u = logits[n_lab:]
        pseudo, mask = confidence_mask(ops.stop_gradient(ops.softmax(logits_u)), self.threshold)
        loss_u = masked_cross_entropy(pseudo, logits_u, mask)
        weight = self.alpha_f * pseudo_label_rampup(self.step(), self.rampup_start, self.rampup_end)
        self.unlabeled_loss_tracker.update_state(loss_u)
        self.mask_rate_tracker.update_state(ops.mean(mask))
        if "true_label" in unlabeled:
            true_label = ops.cast(unlabeled["true_label"], "int32")
            correct = ops.cast(ops.equal(pseudo, true_label), "float32")
            # Images without a label (true_label -1, e.g. STL-10's unlabelled split) are
            # left out of the accuracy instead of counting as wrong.
            known = ops.cast(ops.greater_equal(true_label, 0), "float32")
            self.pseudo_label_accuracy_tracker.update_state(correct, sample_weight=mask * known)
        return loss_x + weight * loss_u
