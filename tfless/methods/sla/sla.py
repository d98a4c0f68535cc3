"""SLA: one classifier of the joint (class, transformation) label."""

from __future__ import annotations

import keras
from keras import ops

from tfless.losses.sla import aggregated_logits, single_logits, sla_loss
from tfless.methods.sla.base import TransformClassifier

#: Inference modes of :class:`SLA`: aggregation over the M copies, or the identity copy only.
SLA_INFERENCE = ("aggregated", "single")


class JointSingleHead(keras.layers.Layer):
    """The ``N`` logits for ``j = 0`` of a joint ``N * M``-way head: ``[B, D] -> [B, N]``.

    The classifier an SLA model exports (SLA+SI): on the untransformed image it gives
    ``P(i | x, j = 0)`` with one forward pass.
    """

    def __init__(self, joint_head: keras.layers.Layer, m: int, **kwargs):
        super().__init__(**kwargs)
        self.joint_head = joint_head
        self.m = int(m)

    def call(self, features, training=False):
        return self.joint_head(features, training=training)[:, :: self.m]


class SLA(TransformClassifier):
    """Self-supervised label augmentation (Lee, Hwang & Shin, "Self-supervised Label
    Augmentation via Input Transformations", ICML 2020, arXiv 1910.05872).

    Each image is expanded into its ``M`` transformed copies within the batch and one linear
    head with ``N * M`` outputs classifies the joint label ``y * M + j``; the loss is the
    mean cross-entropy over all ``B * M`` copies (``L_SLA``). Prediction:

    * ``inference="aggregated"`` (SLA+AG, default: the paper's headline result): the
      average over ``j`` of the ``N`` logits of copy ``j`` conditioned on ``j``, then
      softmax; it costs ``M`` forward passes per image.
    * ``inference="single"`` (SLA+SI): the identity copy's logits for ``j = 0``, one pass.

    The exported classifier (``head``) is SLA+SI's, as a layer on the features.

    Args:
      inference: ``"aggregated"`` or ``"single"``.
      **kwargs: see :class:`~tfless.methods.sla.base.TransformClassifier` (``transforms``
        default ``rotation``, the paper's main set).
    """

    inference_modes = SLA_INFERENCE

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        inference: str = "aggregated",
        class_balanced: bool = False,
        label_distribution=None,
        name: str = "sla",
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
        self.inference = inference
        self.joint_head = self.dense(self.num_classes * self.m, "joint_head")
        self.head = JointSingleHead(self.joint_head, self.m, name="head")

    def joint_logits(self, images, training: bool = False):
        """Joint logits ``[B * M, N * M]`` of the interleaved copies of ``images``."""
        return self.joint_head(self.expanded_features(images, training), training=training)

    def predict_from_joint(self, joint):
        """The inference logits ``[B, N]`` from joint logits ``[B * M, N * M]``."""
        if self.inference == "aggregated":
            return aggregated_logits(joint, self.m)
        return single_logits(joint, self.m)

    def logits(self, images, training: bool = False):
        if self.inference == "single":
            return self.head(self.encoder(images, training=training), training=training)
        return self.predict_from_joint(self.joint_logits(images, training))

    def transform_loss(self, images, labels, weights, training: bool):
        joint = self.joint_logits(images, training)
        return sla_loss(joint, labels, self.m, weights), ops.stop_gradient(
            self.predict_from_joint(joint)
        )
