"""Losses for learning from noisy and weak labels.

Pure functions of tensors (``keras.ops`` / ``tf``) and keyword hyperparameters: no state,
no variables. ``targets`` are ``[B, C]`` rows (one-hot labels, or a label distribution),
``logits`` are ``[B, C]``; every loss returns the per-example loss ``[B]`` (average it
over the batch yourself), so a method can weight or mask examples.

The noise-robust losses are written on the softmax ``p`` of the logits and clip it as
the official symmetric cross-entropy code does (YisenWang/symmetric_cross_entropy_for_noisy_labels,
``loss.py``), which also holds the reference bootstrapping and generalized cross-entropy
losses compared in that paper.

References:
  Reed et al. 2014, "Training Deep Neural Networks on Noisy Labels with Bootstrapping",
  arXiv:1412.6596.
  Zhang & Sabuncu 2018, "Generalized Cross Entropy Loss for Training Deep Neural Networks
  with Noisy Labels", arXiv:1805.07836.
  Wang et al. 2019, "Symmetric Cross Entropy for Robust Learning with Noisy Labels",
  arXiv:1908.06112.
  Mahajan et al. 2018, "Exploring the Limits of Weakly Supervised Pretraining",
  arXiv:1805.00932.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from keras import ops

#: Clip of ``p`` inside ``log p`` (Keras' ``epsilon()``, as in the official SCE code).
PROB_EPS = 1e-7
#: Clip of the one-hot target inside reverse cross-entropy's ``log y``: ``log 0 -> log 1e-4``.
RCE_TARGET_MIN = 1e-4

#: Symmetric cross-entropy's ``(alpha, beta)`` per dataset, as the authors trained them
#: (``train_models.py`` of the official code; paper section 4).
SCE_PRESETS = {
    "mnist": (0.01, 1.0),
    "cifar10": (0.1, 1.0),
    "cifar100": (6.0, 0.1),
}

ROBUST_LOSSES = ("ce", "bootstrap_soft", "bootstrap_hard", "gce", "sce")


def _probs(logits):
    return ops.softmax(ops.cast(logits, "float32"), axis=-1)


def _check_unit(name: str, value: float, low_open: bool = False) -> None:
    ok = (0.0 < value <= 1.0) if low_open else (0.0 <= value <= 1.0)
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must be in {interval}; got {value!r}.")


def cross_entropy(targets, logits):
    """Softmax cross-entropy ``-sum_c y_c log p_c`` per example: the noisy-label baseline.

    Args:
      targets: float ``[B, C]`` one-hot labels or distributions.
      logits: ``[B, C]``.

    Returns:
      float32 ``[B]``.
    """
    targets = ops.cast(targets, "float32")
    return -ops.sum(targets * ops.log_softmax(ops.cast(logits, "float32"), axis=-1), axis=-1)


def bootstrap_soft(targets, logits, beta: float = 0.95):
    """Soft bootstrapping: ``-sum_c (beta y_c + (1 - beta) p_c) log p_c`` (Reed et al. 2014).

    ``p`` is clipped to ``[1e-7, 1 - 1e-7]`` inside the log and the prediction term of the
    target is not stopped: its gradient is the entropy regularizer the paper derives.

    Args:
      targets: float ``[B, C]``.
      logits: ``[B, C]``.
      beta: weight of the given label; 0.95 in the paper.

    Returns:
      float32 ``[B]``.
    """
    _check_unit("beta", beta)
    targets = ops.cast(targets, "float32")
    p = ops.clip(_probs(logits), PROB_EPS, 1.0 - PROB_EPS)
    return -ops.sum((beta * targets + (1.0 - beta) * p) * ops.log(p), axis=-1)


def bootstrap_hard(targets, logits, beta: float = 0.8):
    """Hard bootstrapping: the target is ``beta y + (1 - beta) onehot(argmax p)`` (Reed et al.).

    Args:
      targets: float ``[B, C]``.
      logits: ``[B, C]``.
      beta: weight of the given label; 0.8 in the paper.

    Returns:
      float32 ``[B]``.
    """
    _check_unit("beta", beta)
    targets = ops.cast(targets, "float32")
    p = ops.clip(_probs(logits), PROB_EPS, 1.0 - PROB_EPS)
    predicted = ops.one_hot(ops.argmax(p, axis=-1), ops.shape(p)[-1], dtype="float32")
    return -ops.sum((beta * targets + (1.0 - beta) * predicted) * ops.log(p), axis=-1)


def generalized_cross_entropy(targets, logits, q: float = 0.7):
    """The L_q loss ``(1 - (sum_c y_c p_c)^q) / q`` (Zhang & Sabuncu 2018), untruncated.

    ``q -> 0`` gives cross-entropy, ``q = 1`` mean absolute error. For one-hot targets
    ``p_y^q`` is computed as ``exp(q log p_y)``, which has the same value but a finite
    gradient when ``p_y`` underflows to 0.

    Args:
      targets: float ``[B, C]``.
      logits: ``[B, C]``.
      q: in (0, 1]; 0.7 in the paper.

    Returns:
      float32 ``[B]``.
    """
    _check_unit("q", q, low_open=True)
    targets = ops.cast(targets, "float32")
    log_py = ops.logsumexp(
        ops.log_softmax(ops.cast(logits, "float32"), axis=-1) + ops.log(targets), axis=-1
    )
    return (1.0 - ops.exp(q * log_py)) / q


def reverse_cross_entropy(targets, logits):
    """``-sum_c p_c log clip(y_c, 1e-4, 1)``: cross-entropy with prediction and label swapped.

    The one-hot label's ``log 0`` is clamped to ``log 1e-4`` (about -9.21), the constant
    ``A`` of Wang et al. 2019 and of their code.

    Returns:
      float32 ``[B]``.
    """
    targets = ops.cast(targets, "float32")
    p = ops.clip(_probs(logits), PROB_EPS, 1.0)
    return -ops.sum(p * ops.log(ops.clip(targets, RCE_TARGET_MIN, 1.0)), axis=-1)


def symmetric_cross_entropy(targets, logits, alpha: float = 0.1, beta: float = 1.0):
    """Symmetric cross-entropy ``alpha CE + beta RCE`` (Wang et al. 2019, arXiv:1908.06112).

    ``CE`` uses ``p`` clipped to ``[1e-7, 1]`` and ``RCE`` is :func:`reverse_cross_entropy`,
    as in the official code. The defaults are the authors' CIFAR-10 values; their other
    settings are :data:`SCE_PRESETS` (MNIST ``0.01, 1.0``; CIFAR-100 ``6.0, 0.1``).

    Args:
      targets: float ``[B, C]``.
      logits: ``[B, C]``.
      alpha: weight of cross-entropy, >= 0.
      beta: weight of reverse cross-entropy, >= 0.

    Returns:
      float32 ``[B]``.
    """
    if alpha < 0 or beta < 0:
        raise ValueError(f"alpha and beta must be >= 0; got alpha={alpha!r}, beta={beta!r}.")
    targets = ops.cast(targets, "float32")
    p = ops.clip(_probs(logits), PROB_EPS, 1.0)
    ce = -ops.sum(targets * ops.log(p), axis=-1)
    return alpha * ce + beta * reverse_cross_entropy(targets, logits)


def robust_loss(name: str, targets, logits, **kwargs):
    """The per-example loss ``name`` (one of :data:`ROBUST_LOSSES`) with its keyword values."""
    fns = {
        "ce": cross_entropy,
        "bootstrap_soft": bootstrap_soft,
        "bootstrap_hard": bootstrap_hard,
        "gce": generalized_cross_entropy,
        "sce": symmetric_cross_entropy,
    }
    if name not in fns:
        raise ValueError(f"Unknown robust loss {name!r}. Expected one of {list(ROBUST_LOSSES)}.")
    return fns[name](targets, logits, **kwargs)


# ------------------------------------------------------------------------- multi-tag


def _require_tags(tags, objective: str):
    """Fails (eagerly: ``ValueError``; in a graph: ``InvalidArgumentError``) on a tagless row."""
    counts = ops.sum(tags, axis=-1)
    if tf.executing_eagerly():
        empty = np.flatnonzero(np.asarray(counts) <= 0)
        if empty.size:
            raise ValueError(
                f"{objective} needs at least one tag per image; rows {empty[:10].tolist()} "
                "have none. Drop untagged images (tfless.data.noise.drop_untagged) first."
            )
        return counts
    check = tf.debugging.assert_positive(
        counts, message=f"{objective} needs at least one tag per image; a row has none"
    )
    with tf.control_dependencies([check]):
        return tf.identity(counts)


def multi_tag_softmax(tags, logits):
    """Mahajan et al. 2018's objective: softmax cross-entropy against ``tags / k``.

    Each of an image's ``k`` tags gets target ``1/k`` (the paper found this better than
    per-tag sigmoids for hashtag pre-training).

    Args:
      tags: ``[B, T]`` multi-hot tags (1 where the image carries the tag); every row needs
        at least one tag (an error names the tagless rows).
      logits: ``[B, T]``.

    Returns:
      float32 ``[B]``.
    """
    tags = ops.cast(tags, "float32")
    k = _require_tags(tags, "multi_tag_softmax")
    return cross_entropy(tags / k[:, None], logits)


def per_tag_sigmoid(tags, logits):
    """Per-tag sigmoid: the binary log-loss of every tag of the vocabulary, summed.

    Mahajan et al. 2018 compare it with :func:`multi_tag_softmax`. The paper gives no
    normalization; the sum is used so that each tag's gradient does not shrink as the
    vocabulary grows. An image without tags is allowed (all its targets are 0).

    Args:
      tags: ``[B, T]`` multi-hot.
      logits: ``[B, T]``.

    Returns:
      float32 ``[B]``.
    """
    tags = ops.cast(tags, "float32")
    logits = ops.cast(logits, "float32")
    # log(1 + exp(-|z|)) + max(z, 0) - z y: the stable form of the binary log-loss.
    per_tag = ops.relu(logits) - logits * tags + ops.log1p(ops.exp(-ops.abs(logits)))
    return ops.sum(per_tag, axis=-1)


MULTI_TAG_OBJECTIVES = {"softmax": multi_tag_softmax, "sigmoid": per_tag_sigmoid}
