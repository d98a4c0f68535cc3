"""Uncertainty-based sampling of augmentations (Wu, Zhang, Valiant, Re, ICML 2020).

"On the Generalization Effects of Linear Transformations in Data Augmentation",
https://arxiv.org/abs/2005.00695, Section 5. For every training example, draw ``K``
random compositions of transformations from a user-supplied list, compute the model's
loss on each augmented copy, and train only on the ``L`` copies with the highest loss:
the copies the model is most uncertain about carry the most information.

The authors' code (senwu/dauphin) defaults to compositions of 2 transformations from the
RandAugment list with a uniformly random magnitude each, ``K = 4`` and ``L = 1``; those
are the defaults here. The two pieces are pure functions so that a method
(:class:`tfless.methods.augment.UncertaintySampling`) can run them inside its step:

* :func:`random_compositions` builds the ``K`` augmented copies of a batch;
* :func:`select_highest_loss` picks the top ``L`` of ``K`` per example.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from tfless.augment import ops, rng
from tfless.augment.policies import RANDAUGMENT_OPS

#: Defaults of the authors' CIFAR recipe (``augment_k=4``, ``augment_enlarge=1``,
#: ``num_comp=2``).
DEFAULT_NUM_SAMPLES = 4
DEFAULT_NUM_SELECTED = 1
DEFAULT_NUM_LAYERS = 2


def check_sampling_args(
    num_samples: int, num_selected: int, num_layers: int, transforms: Sequence[str], magnitude
) -> tuple[str, ...]:
    """Validates uncertainty-sampling arguments; returns the transformation names as a tuple.

    Raises:
      ValueError: K < 1, L < 1, L > K, a negative composition length, an empty or unknown
        transformation list, or a magnitude range outside [0, 10].
    """
    if int(num_samples) != num_samples or num_samples < 1:
        raise ValueError(f"num_samples (K) must be a positive integer, got {num_samples!r}")
    if int(num_selected) != num_selected or num_selected < 1:
        raise ValueError(f"num_selected (L) must be a positive integer, got {num_selected!r}")
    if num_selected > num_samples:
        raise ValueError(
            f"num_selected (L={num_selected}) must not exceed num_samples (K={num_samples})"
        )
    if int(num_layers) != num_layers or num_layers < 1:
        raise ValueError(
            f"num_layers (transformations per composition) must be >= 1, got {num_layers!r}"
        )
    if isinstance(transforms, str):
        raise ValueError(f"transforms must be a list of op names, got the string {transforms!r}")
    names = tuple(transforms)
    if not names:
        raise ValueError("transforms must name at least one op, got an empty list")
    for name in names:
        ops.check_op_name(name)
    low, high = _magnitude_range(magnitude)
    for value in (low, high):
        ops.check_magnitude(value)
    if low > high:
        raise ValueError(f"magnitude range must be (low, high) with low <= high, got {magnitude!r}")
    return names


def _magnitude_range(magnitude) -> tuple[float, float]:
    if isinstance(magnitude, (tuple, list)):
        if len(magnitude) != 2:
            raise ValueError(f"magnitude must be a number or (low, high), got {magnitude!r}")
        return float(magnitude[0]), float(magnitude[1])
    return float(magnitude), float(magnitude)


def random_compositions(
    images,
    num_samples: int = DEFAULT_NUM_SAMPLES,
    transforms: Sequence[str] = RANDAUGMENT_OPS,
    num_layers: int = DEFAULT_NUM_LAYERS,
    magnitude=(0.0, ops.MAX_MAGNITUDE),
) -> tf.Tensor:
    """``K`` augmented copies of a batch, each copy of each image its own random composition.

    Every copy applies ``num_layers`` transformations drawn uniformly (with replacement)
    from ``transforms``, each at a magnitude drawn uniformly from ``magnitude``.

    Args:
      images: ``[B, H, W, C]`` float32 in [0, 1] or uint8.
      num_samples: K, copies per image.
      transforms: op names from ``tfless.augment.ops.OPS``.
      num_layers: transformations per composition.
      magnitude: a number or a ``(low, high)`` range on the 0..10 scale.

    Returns:
      ``[K * B, H, W, C]``, same dtype, sample-major: rows ``k * B .. (k + 1) * B - 1`` are
      copy ``k`` of the batch.
    """
    names = check_sampling_args(num_samples, 1, num_layers, transforms, magnitude)
    images = ops.check_images(images)
    low, high = _magnitude_range(magnitude)
    unique = list(dict.fromkeys(names))
    choices = tf.constant([unique.index(n) for n in names], tf.int32)
    x = ops.to_float255(tf.tile(images, [int(num_samples), 1, 1, 1]))
    rows = tf.shape(x)[0]
    for _ in range(int(num_layers)):
        pick = rng.uniform([rows], 0, len(names), dtype=tf.int32)
        mag = low + (high - low) * rng.uniform([rows])
        x = ops.apply_per_image(
            x, tf.gather(choices, pick), mag, unique, quantized=images.dtype == tf.uint8
        )
    return ops.from_float255(x, images.dtype)


def select_highest_loss(losses, num_selected: int = DEFAULT_NUM_SELECTED) -> tf.Tensor:
    """Row indices of the ``L`` highest-loss copies of every example.

    Args:
      losses: ``[K, B]`` per-copy losses (copy ``k`` of example ``b`` at ``[k, b]``), as laid
        out by :func:`random_compositions` after a reshape.
      num_selected: L, copies kept per example (1 <= L <= K).

    Returns:
      int32 ``[L, B]`` indices into the flattened ``[K * B]`` rows (``k * B + b``), highest
      loss first. Ties keep the lower ``k`` (``tf.math.top_k`` is stable).
    """
    losses = tf.convert_to_tensor(losses)
    if losses.shape.rank != 2:
        raise ValueError(f"losses must be [K, B], got shape {losses.shape}")
    k = losses.shape[0]
    if k is not None and not 1 <= num_selected <= k:
        raise ValueError(f"num_selected (L={num_selected}) must be in [1, K={k}]")
    _, top = tf.math.top_k(tf.transpose(losses), k=int(num_selected))  # [B, L]
    batch = tf.shape(losses)[1]
    return tf.transpose(top) * batch + tf.range(batch)[None, :]
