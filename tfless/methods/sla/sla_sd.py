"""SLA+SD: SLA with its aggregated prediction distilled into a single N-way head."""

from __future__ import annotations

import keras

from tfless.losses.sla import aggregated_logits, self_distillation_loss
from tfless.methods.sla.base import TransformClassifier

#: Inference modes of :class:`SLASelfDistillation`.
SD_INFERENCE = ("single", "aggregated")


class SLASelfDistillation(TransformClassifier):
    """SLA+SD (Lee, Hwang & Shin, "Self-supervised Label Augmentation via Input
    Transformations", ICML 2020, arXiv 1910.05872, Sec. 2.3).

    The joint ``N * M``-way head of :class:`~tfless.methods.sla.SLA` plus a second ``N``-way
    head on the same features, evaluated on the identity copy only. Loss (weight 1 on each
    term, as the authors' code github.com/hankook/SLA)::

        L_SLA + CE(single, y) + T^2 KL(softmax(stop_grad(aggregated) / T) || softmax(single / T))

    where ``aggregated`` is SLA+AG of the same forward pass (no separate teacher network).
    Prediction (``inference="single"``, the default) is the single head on the
    untransformed image: one forward pass. ``"aggregated"`` uses SLA+AG of the joint head.

    Trackers add ``joint_xent``, ``single_xent`` and ``distill``.

    Args:
      temperature: ``T`` of the distillation (1, the authors' default ``--T``).
      inference: ``"single"`` or ``"aggregated"``.
      **kwargs: see :class:`~tfless.methods.sla.base.TransformClassifier`.
    """

    inference_modes = SD_INFERENCE

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        temperature: float = 1.0,
        inference: str = "single",
        class_balanced: bool = False,
        label_distribution=None,
        name: str = "sla_sd",
        **kwargs,
    ):
        super().__init__(
            encoder,
            num_classes,
            class_balanced=class_balanced,
            label_distribution=label_distribution,
            name=name,
            **kwargs,
        )
        if not float(temperature) > 0:
            raise ValueError(f"temperature must be > 0; got {temperature!r}.")
        self.temperature = float(temperature)
        self.inference = inference
        self.joint_head = self.dense(self.num_classes * self.m, "joint_head")
        self.head = self.dense(self.num_classes, "head")
        self.joint_xent_tracker = keras.metrics.Mean(name="joint_xent")
        self.single_xent_tracker = keras.metrics.Mean(name="single_xent")
        self.distill_tracker = keras.metrics.Mean(name="distill")

    def logits(self, images, training: bool = False):
        if self.inference == "single":
            return self.head(self.encoder(images, training=training), training=training)
        features = self.expanded_features(images, training)
        return aggregated_logits(self.joint_head(features, training=training), self.m)

    def transform_loss(self, images, labels, weights, training: bool):
        features = self.expanded_features(images, training)
        joint = self.joint_head(features, training=training)
        single = self.head(features[:: self.m], training=training)
        total, parts = self_distillation_loss(
            joint, single, labels, self.m, self.temperature, weights
        )
        self.joint_xent_tracker.update_state(parts["joint"])
        self.single_xent_tracker.update_state(parts["single"])
        self.distill_tracker.update_state(parts["distill"])
        if self.inference == "single":
            return total, single
        return total, aggregated_logits(joint, self.m)
