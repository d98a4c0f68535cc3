"""Losses of self-supervised label augmentation (SLA) and of its DA / MT baselines.

Lee, Hwang & Shin, "Self-supervised Label Augmentation via Input Transformations" (ICML 2020,
arXiv 1910.05872). Layout, as in the authors' code (github.com/hankook/SLA): a batch of ``B``
images becomes ``B * M`` rows, row ``b * M + j`` being image ``b`` under transformation ``j``
(:meth:`tfless.augment.label_transforms.TransformSet.expand`); the joint classifier has
``N * M`` outputs, column ``i * M + j`` scoring class ``i`` under transformation ``j``.

Every function is a pure function of tensors; each returns the replica-local mean over its
rows (optionally weighted per row by ``weights``, e.g. class-balanced weights).
"""

from __future__ import annotations

import numpy as np
from keras import ops


def joint_labels(labels, m: int):
    """Joint labels ``y * M + j`` of the interleaved copies.

    Args:
      labels: int ``[B]`` class labels.
      m: number of transformations ``M``.

    Returns:
      int32 ``[B * M]``; entry ``b * M + j`` is ``labels[b] * M + j``.
    """
    labels = ops.cast(labels, "int32")
    j = ops.arange(m, dtype="int32")
    return ops.reshape(labels[:, None] * m + j[None, :], (-1,))


def repeat_labels(labels, m: int):
    """Each label repeated ``M`` times, matching the interleaved copies: int32 ``[B * M]``."""
    return ops.repeat(ops.cast(labels, "int32"), m, axis=0)


def transform_labels(batch_size, m: int):
    """Transformation index ``j`` of each interleaved row: int32 ``[B * M]``."""
    return ops.tile(ops.arange(m, dtype="int32"), [batch_size])


def _mean(values, weights=None):
    if weights is None:
        return ops.mean(values)
    return ops.mean(values * ops.cast(weights, values.dtype))


def cross_entropy(labels, logits, weights=None):
    """Mean (per-row ``weights``-weighted) softmax cross-entropy: ``[R]``, ``[R, K]`` -> scalar."""
    xent = ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    return _mean(xent, weights)


def sla_loss(joint_logits, labels, m: int, weights=None):
    """``L_SLA``: mean cross-entropy of the joint classifier over all ``B * M`` copies.

    Equals ``(1/M) sum_j CE(softmax(z_j), (y, j))`` averaged over the batch.

    Args:
      joint_logits: ``[B * M, N * M]``.
      labels: int ``[B]`` class labels.
      m: ``M``.
      weights: optional ``[B]`` per-image weights (each copy takes its image's weight).
    """
    if weights is not None:
        weights = ops.repeat(weights, m, axis=0)
    return cross_entropy(joint_labels(labels, m), joint_logits, weights)


def _per_transform(joint_logits, m: int):
    """``[B, M, N]``: the ``N`` logits of copy ``j`` of image ``b`` conditioned on ``j``."""
    k = joint_logits.shape[-1]
    z = ops.reshape(joint_logits, (-1, m, k // m, m))  # [B, M (copy), N, M (column j')]
    mask = ops.eye(m, dtype=z.dtype)[None, :, None, :]  # keeps j' == j
    return ops.sum(z * mask, axis=-1)


def single_logits(joint_logits, m: int):
    """SLA+SI: the identity copy's logits for ``j = 0``, ``[B * M, N * M] -> [B, N]``.

    Softmax over them is ``P(i | x, j = 0)``.
    """
    k = joint_logits.shape[-1]
    return ops.reshape(joint_logits, (-1, m, k // m, m))[:, 0, :, 0]


def aggregated_logits(joint_logits, m: int):
    """SLA+AG: ``s_i = (1/M) sum_j z_{b*M+j, i*M+j}``, ``[B * M, N * M] -> [B, N]``.

    The average over ``j`` of the ``N`` logits of copy ``j`` conditioned on ``j``; its
    softmax is the aggregated prediction. Averaging logits equals (after softmax) averaging
    the conditional log-probabilities ``log P(i | t_j(x), j)``: the log-normalizer of each
    ``j`` does not depend on ``i``. It is not the average of the probabilities.
    """
    return ops.mean(_per_transform(joint_logits, m), axis=1)


def distillation_kl(teacher_logits, student_logits, temperature: float = 1.0, weights=None):
    """``T^2 KL(softmax(stop_grad(teacher) / T) || softmax(student / T))``, batch mean.

    Args:
      teacher_logits, student_logits: ``[B, N]``; no gradient flows into the teacher.
      temperature: ``T > 0``.
      weights: optional ``[B]`` per-row weights.
    """
    t = float(temperature)
    teacher = ops.stop_gradient(teacher_logits) / t
    student = student_logits / t
    log_p = ops.log_softmax(teacher, axis=-1)
    log_q = ops.log_softmax(student, axis=-1)
    kl = ops.sum(ops.exp(log_p) * (log_p - log_q), axis=-1)
    return _mean(kl, weights) * (t * t)


def self_distillation_loss(
    joint_logits, single_head_logits, labels, m: int, temperature: float = 1.0, weights=None
):
    """SLA+SD: ``L_SLA + CE(single, y) + T^2 KL(softmax(sg(agg)/T) || softmax(single/T))``.

    The teacher is the detached SLA+AG aggregate of the same forward pass (no separate
    network); the single ``N``-way head sees the identity copy only. Weight 1 on every
    term (the authors' code hard-codes it).

    Args:
      joint_logits: ``[B * M, N * M]``.
      single_head_logits: ``[B, N]``, the single head on the identity copies.
      labels: int ``[B]``.
      m: ``M``.
      temperature: ``T`` (1 by default, the authors' ``--T``).
      weights: optional ``[B]`` per-image weights.

    Returns:
      ``(total, {"joint": ..., "single": ..., "distill": ...})``.
    """
    joint = sla_loss(joint_logits, labels, m, weights)
    single = cross_entropy(ops.cast(labels, "int32"), single_head_logits, weights)
    teacher = aggregated_logits(joint_logits, m)
    distill = distillation_kl(teacher, single_head_logits, temperature, weights)
    return joint + single + distill, {"joint": joint, "single": single, "distill": distill}


def da_loss(logits, labels, m: int, weights=None):
    """DA baseline: ``(1/M) sum_j CE(softmax(z_j), y)``; every copy keeps its class label.

    Args:
      logits: ``[B * M, N]`` of the interleaved copies.
      labels: int ``[B]``.
    """
    if weights is not None:
        weights = ops.repeat(weights, m, axis=0)
    return cross_entropy(repeat_labels(labels, m), logits, weights)


def mt_loss(class_logits, transform_logits, labels, m: int, weights=None):
    """MT baseline: ``DA + (1/M) sum_j CE(softmax(v_j), j)``, a class and a transformation head.

    Args:
      class_logits: ``[B * M, N]``.
      transform_logits: ``[B * M, M]``.
      labels: int ``[B]``.

    Returns:
      ``(total, {"class": ..., "transform": ...})``.
    """
    cls = da_loss(class_logits, labels, m, weights)
    batch = ops.shape(labels)[0]
    if weights is not None:
        weights = ops.repeat(weights, m, axis=0)
    trans = cross_entropy(transform_labels(batch, m), transform_logits, weights)
    return cls + trans, {"class": cls, "transform": trans}


def class_balanced_weights(label_distribution) -> np.ndarray:
    """Inverse-frequency class weights normalized to sum to the number of classes.

    Class-balanced re-weighting of Cui et al. (CVPR 2019, "Class-Balanced Loss Based on
    Effective Number of Samples", arXiv 1901.05555) in its ``beta -> 1`` limit: ``w_c`` is
    proportional to ``1 / p_c`` and ``sum_c w_c = C``, so a balanced set gets weight 1.

    Args:
      label_distribution: ``[C]`` class frequencies or counts, all > 0.

    Raises:
      ValueError: an empty distribution or a class with no example.
    """
    p = np.asarray(label_distribution, np.float64).reshape(-1)
    if p.size == 0 or not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ValueError(
            f"class_balanced_weights needs a positive frequency for every class; got {p.tolist()}."
        )
    w = 1.0 / p
    return (w * p.size / w.sum()).astype(np.float32)


__all__ = [
    "aggregated_logits",
    "class_balanced_weights",
    "cross_entropy",
    "da_loss",
    "distillation_kl",
    "joint_labels",
    "mt_loss",
    "repeat_labels",
    "self_distillation_loss",
    "single_logits",
    "sla_loss",
    "transform_labels",
]
