"""The data-augmentation (DA) baseline of SLA: invariance to the transformations."""

from __future__ import annotations

import keras

from tfless.losses.sla import da_loss
from tfless.methods.sla.base import TransformClassifier


class TransformAugmentation(TransformClassifier):
    """DA: every transformed copy keeps its image's label, ``(1/M) sum_j CE(sigma(z_j; u), y)``.

    The data-augmentation baseline of Lee, Hwang & Shin, "Self-supervised Label Augmentation
    via Input Transformations" (ICML 2020, arXiv 1910.05872), Sec. 2 / Table 1: the network
    is asked to be invariant to the transformations. The authors' code
    (github.com/hankook/SLA) leaves this mode unimplemented; this follows the paper's
    definition. Prediction is the ``N``-way head on the untransformed image (one forward pass).

    See :class:`~tfless.methods.sla.base.TransformClassifier` for the arguments; the default
    transformations are the paper's main set, ``rotation``.
    """

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        class_balanced: bool = False,
        label_distribution=None,
        name: str = "sla_da",
        **kwargs,
    ):
        # Named here so the trainer fills label_distribution in from the labeled split.
        super().__init__(
            encoder,
            num_classes,
            class_balanced=class_balanced,
            label_distribution=label_distribution,
            name=name,
            **kwargs,
        )
        self.head = self.dense(self.num_classes, "head")

    def transform_loss(self, images, labels, weights, training: bool):
        logits = self.head(self.expanded_features(images, training), training=training)
        return da_loss(logits, labels, self.m, weights), logits[:: self.m]
