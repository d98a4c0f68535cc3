"""Few-shot SLA: self-supervised label augmentation inside Prototypical Networks."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.augment.label_transforms import TransformSet, get_transform_set
from tfless.losses import fewshot as fs
from tfless.methods.fewshot.episodic import embed_sets, episode_ways
from tfless.methods.fewshot.protonet import ProtoNet
from tfless.methods.sla.base import check_choice, encoder_image_shape

#: Inference modes of :class:`SLAProtoNet`: aggregation over the M copies, or the identity
#: copy against the identity prototypes only.
SLA_PROTONET_INFERENCE = ("aggregated", "single")

_no_autograph = tf.autograph.experimental.do_not_convert


def expand_episode_set(transforms: TransformSet, images):
    """The ``M`` transformed copies of every image of a meta-batch set, interleaved.

    Args:
      transforms: the transformation set (``M`` transformations, identity first).
      images: float ``[E, S, H, W, C]``.

    Returns:
      float ``[E, S * M, H, W, C]``; row ``s * M + j`` of episode ``e`` is image ``s`` under
      transformation ``j`` (the layout of
      :meth:`~tfless.augment.label_transforms.TransformSet.expand`, per episode).
    """
    m = transforms.size
    shape = tf.shape(images)
    flat = tf.reshape(images, tf.concat([[-1], shape[2:]], 0))
    copies = tf.reshape(transforms.expand(flat), tf.concat([shape[:1], [-1], shape[2:]], 0))
    rows = None if images.shape[1] is None else images.shape[1] * m
    return tf.ensure_shape(copies, [images.shape[0], rows, *images.shape[2:]])


def episode_joint_labels(labels, m: int):
    """Joint labels ``y * M + j`` of the interleaved copies of an episode set.

    Args:
      labels: int ``[E, S]`` episode-local class labels in ``[0, N)``.
      m: ``M``.

    Returns:
      int32 ``[E, S * M]``; entry ``s * M + j`` is ``labels[e, s] * M + j``, a class of the
      ``N * M``-way joint episode.
    """
    labels = tf.cast(labels, tf.int32)
    joint = labels[:, :, None] * m + tf.range(m, dtype=tf.int32)[None, None, :]
    return tf.reshape(joint, [tf.shape(labels)[0], -1])


def joint_to_per_transform(joint_logits, m: int):
    """``[E, Q * M, N * M] -> [E, Q, N, M]``: entry ``[e, q, i, j]`` is the joint score of
    copy ``j`` of query ``q`` for class ``i`` under transformation ``j`` (column ``i * M + j``
    of row ``q * M + j``). ``N`` may be dynamic (a traced episode's ways)."""
    shape = tf.shape(joint_logits)
    z = tf.reshape(joint_logits, tf.stack([shape[0], shape[1] // m, m, -1, m]))
    # [E, Q, copy j, N, column j'] -> [E, Q, N, j, j'], then keep j' == j.
    return tf.linalg.diag_part(tf.transpose(z, [0, 1, 3, 2, 4]))


def aggregated_episode_logits(joint_logits, m: int):
    """SLA+AG for an episode: ``s_i = (1/M) sum_j z(t_j(x))_{(i, j)}``.

    The episode form of :func:`tfless.losses.sla.aggregated_logits` (which needs a static
    ``N * M``; here ``N`` is the episode's ways, a tensor under ``fit``): the average over
    ``j`` of the joint scores of copy ``j`` for the prototypes of transformation ``j``.

    Args:
      joint_logits: float ``[E, Q * M, N * M]``, rows and columns interleaved.
      m: ``M``.

    Returns:
      float ``[E, Q, N]``.
    """
    return tf.reduce_mean(joint_to_per_transform(joint_logits, m), axis=-1)


def single_episode_logits(joint_logits, m: int):
    """SLA+SI for an episode: the identity copy's scores for the identity prototypes,
    ``[E, Q * M, N * M] -> [E, Q, N]``."""
    return joint_to_per_transform(joint_logits, m)[..., 0]


class SLAProtoNet(ProtoNet):
    """Few-shot self-supervised label augmentation: Prototypical Networks on joint
    (class, transformation) classes.

    Lee, Hwang & Shin, "Self-supervised Label Augmentation via Input Transformations"
    (ICML 2020, arXiv 1910.05872), few-shot section, on top of Snell, Swersky & Zemel,
    "Prototypical Networks for Few-shot Learning" (arXiv 1703.05175). The authors did not
    release their few-shot code; this follows the paper's description:

    * **Training.** Every support and query image is expanded into its ``M`` transformed
      copies, turning an N-way K-shot episode into an ``N * M``-way K-shot episode: copy
      ``j`` of an image of class ``i`` belongs to the joint class ``i * M + j``. Each joint
      class has its own prototype, the mean embedding of its ``K`` support copies; the loss
      is ProtoNet's cross-entropy of the ``N * Q * M`` query copies over the ``N * M``
      joint prototypes (negative squared Euclidean distances).
    * **Inference** ``"aggregated"`` (SLA+AG, the default and the paper's few-shot result):
      the class score is the average over ``j`` of the joint score of query copy ``j``
      for the prototype of ``(i, j)``, then softmax over the ``N`` classes, as SLA+AG
      averages the conditional logits. It costs ``M`` forward passes per image.
      ``"single"`` (SLA+SI): the untransformed query against the untransformed prototypes,
      which is ProtoNet's logits on the SLA-trained encoder (one pass; the evaluation then
      scores it as the ``protonet`` head on cached features).

    Choices where the paper is silent (each tested): the aggregated scores are averages
    of the negative squared distances (logits, not probabilities, as SLA+AG); the training
    accuracy tracker reports the ``N``-way query accuracy of the chosen inference (the loss
    is on the joint labels); support and query copies go through the encoder in one batch
    (one set of batch-norm statistics), as :class:`~tfless.methods.fewshot.ProtoNet` embeds
    support and queries together. Training episodes from a sampler with ``rotations=True``
    (Omniglot's rotated classes) should not be combined with a rotation set: a class turned
    by 90 degrees under transformation 270 is the original class under transformation 0.

    Reads ``support_image``, ``support_label``, ``query_image``, ``query_label``; reports
    ``loss`` (joint) and ``accuracy`` (``N``-way, of the training queries).

    Args:
      encoder: the embedding network ``[B, H, W, C] -> [B, D]``.
      transforms: a :class:`~tfless.augment.label_transforms.TransformSet` or its name
        (default ``rotation``, M = 4, the paper's few-shot set).
      inference: ``"aggregated"`` or ``"single"``.
    """

    inference_modes = SLA_PROTONET_INFERENCE

    def __init__(
        self,
        encoder: keras.Model,
        transforms: TransformSet | str = "rotation",
        inference: str = "aggregated",
        name: str = "sla_protonet",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        self.transforms = get_transform_set(transforms)
        self.transforms.check_image_shape(encoder_image_shape(encoder, type(self).__name__))
        self.m = self.transforms.size
        self.inference = inference

    @property
    def inference(self) -> str:
        """How :meth:`episode_logits` predicts; setting it forgets compiled functions."""
        return self._inference

    @inference.setter
    def inference(self, value: str) -> None:
        self._inference = check_choice(value, self.inference_modes, "SLAProtoNet inference")
        # SLA+SI is exactly ProtoNet's head on the untransformed features.
        self.fewshot_head = "protonet" if value == "single" else None
        self.test_function = None
        self.predict_function = None

    # No Python control flow depends on tensors here: skipping autograph's conversion
    # saves seconds of tracing in every run and test.
    @_no_autograph
    def joint_logits(self, support_image, support_label, query_image, ways, training=False):
        """Scores of every query copy for every joint prototype: float
        ``[E, N*Q*M, N*M]`` (row ``q * M + j``: query ``q`` under ``t_j``; column
        ``i * M + j'``: the prototype of class ``i`` under ``t_j'``)."""
        support, query = embed_sets(
            self.encoder,
            [
                expand_episode_set(self.transforms, support_image),
                expand_episode_set(self.transforms, query_image),
            ],
            training,
        )
        labels = episode_joint_labels(support_label, self.m)
        prototypes = fs.class_prototypes(support, labels, ways * self.m)
        return fs.prototype_logits(query, prototypes)

    def predict_from_joint(self, joint):
        """The ``N``-way logits ``[E, N*Q, N]`` of the inference mode from joint scores."""
        if self.inference == "aggregated":
            return aggregated_episode_logits(joint, self.m)
        return single_episode_logits(joint, self.m)

    @_no_autograph
    def episode_logits(self, support_image, support_label, query_image, ways, training=False):
        """``N``-way query logits ``[E, N*Q, N]``: SLA+AG or SLA+SI (see the class doc)."""
        if self.inference == "single":
            return super().episode_logits(
                support_image, support_label, query_image, ways, training=training
            )
        joint = self.joint_logits(support_image, support_label, query_image, ways, training)
        return self.predict_from_joint(joint)

    @_no_autograph
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        ways = episode_ways(x["support_label"])
        joint = self.joint_logits(
            x["support_image"], x["support_label"], x["query_image"], ways, training=training
        )
        loss = fs.episode_cross_entropy(episode_joint_labels(x["query_label"], self.m), joint)
        logits = tf.stop_gradient(self.predict_from_joint(joint))
        self.accuracy_tracker.update_state(fs.episode_accuracy(x["query_label"], logits))
        return loss


__all__ = [
    "SLA_PROTONET_INFERENCE",
    "SLAProtoNet",
    "aggregated_episode_logits",
    "episode_joint_labels",
    "expand_episode_set",
    "joint_to_per_transform",
    "single_episode_logits",
]
