"""Batch-level mixing augmentations: mixup, CutMix and Cutout, with a per-example lambda.

All functions take ``images`` ``[B, H, W, C]`` (float32 in [0, 1] or uint8) and, where
labels are mixed, ``labels`` ``[B, K]`` float one-hot (or soft) targets, and return arrays
of the same shapes and dtypes. Each example ``i`` is mixed with example ``perm[i]`` of a
random permutation of the batch, with its own mixing coefficient ``lambda_i``.

References:
  mixup: Zhang, Cisse, Dauphin, Lopez-Paz, "mixup: Beyond Empirical Risk Minimization",
  ICLR 2018, https://arxiv.org/abs/1710.09412.
  CutMix: Yun et al., "CutMix: Regularization Strategy to Train Strong Classifiers with
  Localizable Features", ICCV 2019, https://arxiv.org/abs/1905.04899.
  Cutout: DeVries & Taylor, "Improved Regularization of Convolutional Neural Networks with
  Cutout", 2017, https://arxiv.org/abs/1708.04552.
"""

from __future__ import annotations

import tensorflow as tf

from tfless.augment import ops, rng


def sample_beta(shape, alpha: float) -> tf.Tensor:
    """Beta(alpha, alpha) samples via two Gamma draws (:func:`tfless.augment.rng.beta`)."""
    return rng.beta(shape, alpha)


def _check(images, labels, alpha):
    images = ops.check_images(images)
    labels = tf.convert_to_tensor(labels)
    if not labels.dtype.is_floating:
        raise ValueError(
            f"labels must be float one-hot/soft targets [B, K], got dtype {labels.dtype.name}"
        )
    if labels.shape.rank != 2:
        raise ValueError(f"labels must have shape [B, K], got shape {labels.shape}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    return images, labels


def _pairs(batch):
    return rng.shuffle(tf.range(batch))


@tf.autograph.experimental.do_not_convert
def mixup(images, labels, alpha: float = 1.0, return_lambda: bool = False):
    """mixup: ``x = l x_i + (1 - l) x_perm(i)``, same for labels, ``l ~ Beta(alpha, alpha)``.

    Args:
      images: ``[B, H, W, C]`` float32 [0, 1] or uint8 (mixed in float, rounded back).
      labels: ``[B, K]`` float targets.
      alpha: Beta concentration (the paper uses 0.2..0.4 on ImageNet, 1.0 on CIFAR).
      return_lambda: also return the ``[B]`` coefficients.

    Returns:
      ``(images, labels)`` (and ``lambda`` ``[B]``) with the input shapes and dtypes.
    """
    images, labels = _check(images, labels, alpha)
    batch = tf.shape(images)[0]
    lam = sample_beta([batch], alpha)
    perm = _pairs(batch)
    x = ops.to_float255(images)
    lam_x = lam[:, None, None, None]
    x = lam_x * x + (1.0 - lam_x) * tf.gather(x, perm)
    lam_y = tf.cast(lam[:, None], labels.dtype)
    y = lam_y * labels + (1.0 - lam_y) * tf.gather(labels, perm)
    out = (ops.from_float255(x, images.dtype), y)
    return (*out, lam) if return_lambda else out


@tf.autograph.experimental.do_not_convert
def cutmix(images, labels, alpha: float = 1.0, return_lambda: bool = False):
    """CutMix: paste a box of ``x_perm(i)`` into ``x_i``; labels mixed by the kept area.

    The box has side ratio ``sqrt(1 - l)`` with ``l ~ Beta(alpha, alpha)`` and a uniform
    centre, clipped at the border; the label weight is the exact kept area fraction after
    clipping, as in the paper's reference code.

    Args:
      images: ``[B, H, W, C]`` float32 [0, 1] or uint8.
      labels: ``[B, K]`` float targets.
      alpha: Beta concentration (paper: 1.0).
      return_lambda: also return the ``[B]`` kept-area fractions.

    Returns:
      ``(images, labels)`` (and ``lambda`` ``[B]``) with the input shapes and dtypes.
    """
    images, labels = _check(images, labels, alpha)
    shape = tf.shape(images)
    batch = shape[0]
    height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    lam = sample_beta([batch], alpha)
    cut = tf.sqrt(1.0 - lam)
    cy = rng.uniform([batch]) * height
    cx = rng.uniform([batch]) * width
    y0 = tf.round(tf.clip_by_value(cy - cut * height / 2.0, 0.0, height))
    y1 = tf.round(tf.clip_by_value(cy + cut * height / 2.0, 0.0, height))
    x0 = tf.round(tf.clip_by_value(cx - cut * width / 2.0, 0.0, width))
    x1 = tf.round(tf.clip_by_value(cx + cut * width / 2.0, 0.0, width))
    rows = tf.range(shape[1], dtype=tf.float32)[None, :, None]
    cols = tf.range(shape[2], dtype=tf.float32)[None, None, :]
    inside = (
        (rows >= y0[:, None, None])
        & (rows < y1[:, None, None])
        & (cols >= x0[:, None, None])
        & (cols < x1[:, None, None])
    )
    perm = _pairs(batch)
    mixed = tf.where(inside[..., None], tf.gather(images, perm), images)
    kept = 1.0 - (y1 - y0) * (x1 - x0) / (height * width)
    lam_y = tf.cast(kept[:, None], labels.dtype)
    y = lam_y * labels + (1.0 - lam_y) * tf.gather(labels, perm)
    return (mixed, y, kept) if return_lambda else (mixed, y)


def cutout(images, size: float = 0.5, fill: float = 0.5):
    """Cutout: one grey square of side ``size * min(H, W)`` per image (labels unchanged).

    See ``tfless.augment.ops.cutout``; images ``[B, H, W, C]`` -> same shape and dtype.
    """
    return ops.cutout(images, size=size, fill=fill)
