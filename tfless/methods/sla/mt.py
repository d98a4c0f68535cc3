"""The multi-task (MT) baseline of SLA: a class head and a transformation head."""

from __future__ import annotations

import keras

from tfless.losses.sla import mt_loss
from tfless.methods.sla.da import TransformAugmentation


class TransformMultiTask(TransformAugmentation):
    """MT: DA plus a self-supervised head predicting the transformation.

    Loss ``(1/M) sum_j [CE(sigma(z_j; u), y) + CE(sigma(z_j; v), j)]``: the multi-task
    baseline of Lee, Hwang & Shin, "Self-supervised Label Augmentation via Input
    Transformations" (ICML 2020, arXiv 1910.05872), Sec. 2 / Table 1, with equal weights on
    the two tasks (the paper's form; the authors' code leaves this mode unimplemented).
    Prediction is the ``N``-way class head ``u`` on the untransformed image.

    Trackers add ``class_xent`` and ``transform_xent``. See
    :class:`~tfless.methods.sla.base.TransformClassifier` for the arguments (the class head
    ``head`` is :class:`~tfless.methods.sla.da.TransformAugmentation`'s).
    """

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        class_balanced: bool = False,
        label_distribution=None,
        name: str = "sla_mt",
        **kwargs,
    ):
        # Named in the signature: the trainer fills label_distribution in when it sees it.
        super().__init__(encoder, num_classes, class_balanced, label_distribution, name, **kwargs)
        self.transform_head = self.dense(self.m, "transform_head")
        self.class_xent_tracker = keras.metrics.Mean(name="class_xent")
        self.transform_xent_tracker = keras.metrics.Mean(name="transform_xent")

    def transform_loss(self, images, labels, weights, training: bool):
        features = self.expanded_features(images, training)
        logits = self.head(features, training=training)
        transform_logits = self.transform_head(features, training=training)
        total, parts = mt_loss(logits, transform_logits, labels, self.m, weights)
        self.class_xent_tracker.update_state(parts["class"])
        self.transform_xent_tracker.update_state(parts["transform"])
        return total, logits[:: self.m]
