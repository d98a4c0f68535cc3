"""Batched, per-image random image augmentation ops in pure TensorFlow graph ops.

Every op takes a batch ``images`` of shape ``[B, H, W, C]`` (``C`` = 1 or 3), either
float32 in [0, 1] or uint8 in [0, 255], and returns the same dtype and range. Each image
gets its own random draw (sign, location, factor...). There are no per-image Python loops
and no ``tf.map_fn``: the ops run inside ``tf.data.Dataset.map`` on batched data, inside
``tf.function`` and under XLA where the underlying kernels allow it.

AutoAugment/RandAugment ops (``OPS``) take ``fn(images, magnitude)`` where ``magnitude`` is
a scalar or a ``[B]`` float tensor on the 0..10 scale. The magnitude-to-parameter ranges are
those of the TF reference implementation, tensorflow/models ``official/vision/ops/augment.py``
(RandAugment: Cubuk et al. 2019, https://arxiv.org/abs/1909.13719; AutoAugment: Cubuk et
al. 2018, https://arxiv.org/abs/1805.09501), with ``m = magnitude / 10``. The pixel results
are Pillow's (``ImageOps``, ``ImageEnhance``, ``Image.transform``), which is what the
AutoAugment, RandAugment (CIFAR) and FixMatch authors' own code calls; the tests compare
against the installed Pillow:

============  ===========================================================================
Rotate        +-30 * m degrees (random sign per image) about the image centre, as Pillow's
              ``Image.rotate``
ShearX/Y      +-0.3 * m shear (random sign), exactly Pillow's
              ``Image.transform(size, AFFINE, (1, s, 0, 0, 1, 0), NEAREST)``, which samples
              at pixel centres (the TF reference's projective transform samples at pixel
              corners, half a pixel times the shear away)
TranslateX/Y  +-``translate_fraction`` * m of the width/height (random sign), as Pillow's
              affine translation. The default ``TRANSLATE_FRACTION`` (0.446) is the TF
              reference's ImageNet RandAugment, 100 px of 224 (the AutoAugment paper's
              ImageNet range is 150 px of 331, 0.453). Small-image recipes pass their own:
              ``CIFAR_TRANSLATE_FRACTION`` (10 px of 32, the AutoAugment authors' CIFAR and
              SVHN code) and ``FIXMATCH_TRANSLATE_FRACTION`` (0.3 of the side, FixMatch and
              ReMixMatch)
Color, Contrast, Brightness, Sharpness
              Pillow ``ImageEnhance`` factor 0.1 + 1.8 * m (identity at magnitude 5)
Posterize     keep ``int(4 * m)`` bits as Pillow's lookup table ``v & ~(2 ** (8 - bits) - 1)``;
              below magnitude 2.5 that is 0 bits, a black image, as Pillow up to 10.x gave
              (Pillow 13 refuses 0 bits). The TF reference differs there: its bit shifts by
              8 are clamped to 7, so its "0 bits" keeps 1 bit (pixels >= 128 become 128).
              The AutoAugment paper's own range is 4..8 bits
Solarize      invert pixels >= threshold ``int(256 * m)``, as Pillow's ``ImageOps.solarize``:
              magnitude 0 inverts everything and magnitude 10 (threshold 256) is the
              identity. The TF reference differs at magnitude 10: it compares uint8 pixels
              with 256, which wraps to 0, and inverts every pixel
SolarizeAdd   add ``int(110 * m)`` to pixels below 128
Cutout        grey square with half-side ``int(m * cutout_fraction * min(H, W))``, centre
              uniform per image; the default ``CUTOUT_FRACTION`` is the reference's 40 px of
              224
AutoContrast, Equalize, Invert, Identity
              magnitude ignored
============  ===========================================================================

Geometric ops fill uncovered pixels with grey (128 of 255), as Pillow's ``Image.transform``
with ``fillcolor=(128, 128, 128)``. That is what the AutoAugment authors meant: their CIFAR
code fills with the dataset mean, and the TF reference's ``unwrap`` says it greys empty
pixels so that they take "the average value, rather than pure black". The TF reference
itself does not: its ``transform`` calls Keras' image ``transform`` with the default
``fill_mode="reflect"``, so uncovered pixels are reflections of the image, and its grey
``unwrap`` never finds an empty pixel (the marker channel is reflected too).

Caveat: the AutoAugment authors' original CIFAR code (tensorflow/models
``research/autoaugment/augmentation_transforms.py``) maps Posterize and Solarize the other
way round (``4 - int(4 * m)`` bits, threshold ``256 - int(256 * m)``). We follow the TF
reference's direction, so published policies that were searched with the original code
behave differently for those two ops, exactly as they do in the TF reference.

Internally pixels are float32 on the 0..255 scale. For uint8 input every op rounds its
result to integers as Pillow does (blends truncate, like ``Image.blend``); for float32 input
AutoContrast, Equalize and Posterize quantize the image to 256 levels because they are
defined on 8-bit values, and the other ops keep full precision.

XLA: every op except ``random_resized_crop`` (``CropAndResize`` has no XLA kernel) compiles
under ``jit_compile=True``. Geometric ops sample with ``warp_affine_nearest``, a batched gather
with ``ImageProjectiveTransformV3``'s semantics that, unlike that op, XLA compiles. The
per-image dispatch (``apply_per_image``) groups by op with dynamic shapes and is not
XLA-compilable; it is meant for ``tf.data`` and plain ``tf.function``.

Per-image op choice (RandAugment, AutoAugment policies) is done by ``apply_per_image``: it
groups the batch by chosen op (``tf.dynamic_partition``), runs each op once on its group
and stitches the results back in order, so choosing among 17 ops per image costs about one
op application per image. Each op is itself batched: a per-image, per-channel lookup table
(AutoContrast, Equalize), per-image arithmetic (Invert, Posterize, Solarize, SolarizeAdd,
the Pillow enhance blends), one batched nearest-neighbour warp (geometric ops), or a
per-image mask (Cutout).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from tfless.augment import rng

MAX_MAGNITUDE = 10.0
#: Maximum translation as a fraction of the side: the TF reference's ImageNet RandAugment,
#: 100 px of 224.
TRANSLATE_FRACTION = 100.0 / 224.0
#: The AutoAugment authors' CIFAR-10 and SVHN code: at most 10 px of 32
#: (tensorflow/models ``research/autoaugment/augmentation_transforms.py``).
CIFAR_TRANSLATE_FRACTION = 10.0 / 32.0
#: FixMatch's RandAugment and CTAugment and ReMixMatch's CTAugment: 0.3 of the side
#: ("FixMatch", arXiv:2001.07685, Table 12; "ReMixMatch", arXiv:1911.09785).
FIXMATCH_TRANSLATE_FRACTION = 0.3
CUTOUT_FRACTION = 40.0 / 224.0
FILL_VALUE = 128.0

# Op families (for documentation and tests): PIL ImageOps point ops, PIL ImageEnhance
# blends, affine warps, and cutout.
_LUT_OPS = ("AutoContrast", "Equalize", "Invert", "Posterize", "Solarize", "SolarizeAdd")
_BLEND_OPS = ("Color", "Contrast", "Brightness", "Sharpness")
_GEOMETRIC_OPS = ("Rotate", "ShearX", "ShearY", "TranslateX", "TranslateY")
_CUTOUT_OPS = ("Cutout",)
OP_NAMES = ("Identity",) + _LUT_OPS + _BLEND_OPS + _GEOMETRIC_OPS + _CUTOUT_OPS

# The ops have no tensor-dependent Python control flow; AutoGraph conversion would only
# multiply tracing time (about 5x for RandAugment) inside tf.data and tf.function.
_no_autograph = tf.autograph.experimental.do_not_convert

# ITU-R 601-2 luma, the weights PIL uses for convert("L").
_LUMA = (0.299, 0.587, 0.114)


# --------------------------------------------------------------------------- validation


def check_images(images, name: str = "images") -> tf.Tensor:
    """Validates an image batch and returns it as a tensor.

    Args:
      images: ``[B, H, W, C]`` float32 in [0, 1] or uint8, with C = 1 or 3.
      name: name used in error messages.

    Raises:
      ValueError: wrong rank, channel count or dtype.
    """
    images = tf.convert_to_tensor(images)
    if images.dtype not in (tf.float32, tf.uint8):
        raise ValueError(
            f"{name} must be float32 in [0, 1] or uint8, got dtype {images.dtype.name}"
        )
    if images.shape.rank != 4:
        raise ValueError(
            f"{name} must be a batch of rank 4 [B, H, W, C], got shape {images.shape} "
            f"(rank {images.shape.rank})"
        )
    channels = images.shape[-1]
    if channels not in (1, 3):
        raise ValueError(f"{name} must have 1 or 3 channels, got {channels} (shape {images.shape})")
    return images


def check_magnitude(magnitude, max_magnitude: float = MAX_MAGNITUDE) -> None:
    """Raises ValueError when a statically known magnitude is outside [0, max_magnitude]."""
    value = tf.get_static_value(magnitude) if tf.is_tensor(magnitude) else magnitude
    if value is None:
        return
    value = np.asarray(value, dtype=np.float64)
    if value.ndim > 1:
        raise ValueError(f"magnitude must be a scalar or a [B] vector, got shape {value.shape}")
    if not np.all(np.isfinite(value)) or np.any(value < 0) or np.any(value > max_magnitude):
        raise ValueError(f"magnitude must be in [0, {max_magnitude:g}], got {value.tolist()}")


def check_probability(p, name: str = "probability") -> None:
    """Raises ValueError when ``p`` is not a number in [0, 1]."""
    try:
        value = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {p!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {p!r}")


def check_op_name(name: str) -> None:
    """Raises ValueError naming ``name`` and the known ops when it is not an op name."""
    if name not in OP_NAMES:
        raise ValueError(f"unknown augmentation op {name!r}; expected one of {sorted(OP_NAMES)}")


# --------------------------------------------------------------------------- conversions


def to_float255(images: tf.Tensor) -> tf.Tensor:
    """uint8 [0, 255] or float32 [0, 1] -> float32 on the 0..255 scale."""
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32)
    return images * 255.0


def from_float255(x: tf.Tensor, dtype: tf.DType) -> tf.Tensor:
    """float32 on the 0..255 scale -> ``dtype`` (uint8 rounds, float32 rescales), clipped."""
    x = tf.clip_by_value(x, 0.0, 255.0)
    if dtype == tf.uint8:
        return tf.cast(tf.round(x), tf.uint8)
    return x / 255.0


def _batch_vector(value, batch: tf.Tensor) -> tf.Tensor:
    """Scalar or [B] -> float32 [B]."""
    value = tf.cast(tf.convert_to_tensor(value), tf.float32)
    return tf.broadcast_to(value, [batch]) if value.shape.rank == 0 else tf.reshape(value, [batch])


def _uniform(shape, low: float, high: float) -> tf.Tensor:
    """Uniform in [low, high), allowing low == high (tf.random.uniform does not)."""
    return low + (high - low) * rng.uniform(shape)


def _random_sign(batch: tf.Tensor) -> tf.Tensor:
    return tf.where(rng.uniform([batch]) < 0.5, -1.0, 1.0)


def _grayscale(x: tf.Tensor) -> tf.Tensor:
    """[B, H, W, C] -> [B, H, W, 1] luma (identity for one channel)."""
    if x.shape[-1] == 1:
        return x
    r, g, b = tf.unstack(x, axis=-1)
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b)[..., None]


# --------------------------------------------------------------------------- kernels
# A kernel maps x [b, H, W, C] float32 on the 0..255 scale and magnitudes [b] to the
# augmented images on the same scale, rounded when ``quantized`` (uint8 input).


class _Context(NamedTuple):
    quantized: bool
    translate_fraction: float
    cutout_fraction: float


def _per_image(v: tf.Tensor) -> tf.Tensor:
    return v[:, None, None, None]


def _levels() -> tf.Tensor:
    return tf.range(256, dtype=tf.float32)[None, None, :]


def _flat_levels(x: tf.Tensor) -> tf.Tensor:
    """Indices ``(b * C + c) * 256 + level`` of every pixel into flattened [b, C, 256]."""
    batch = tf.shape(x)[0]
    channels = x.shape[-1]
    q = tf.cast(tf.clip_by_value(tf.round(x), 0.0, 255.0), tf.int32)
    offsets = (tf.range(batch)[:, None, None, None] * channels + tf.range(channels)) * 256
    return q + offsets


def _apply_lut(flat: tf.Tensor, lut: tf.Tensor) -> tf.Tensor:
    """Looks up ``lut`` [b, C, 256] at the ``_flat_levels`` indices of the images."""
    return tf.gather(tf.reshape(lut, [-1]), flat)


def _histograms(flat: tf.Tensor, batch, channels: int) -> tf.Tensor:
    """Per image and channel level counts [b, C, 256] from ``_flat_levels`` (one bincount)."""
    counts = tf.math.bincount(tf.reshape(flat, [-1]), minlength=batch * channels * 256)
    return tf.reshape(tf.cast(counts, tf.float32), [batch, channels, 256])


def _k_identity(x, magnitude, ctx):
    del magnitude, ctx
    return x


def _k_invert(x, magnitude, ctx):
    del magnitude, ctx
    return 255.0 - x


def _k_posterize(x, magnitude, ctx):
    del ctx
    bits = tf.floor(magnitude / MAX_MAGNITUDE * 4.0)
    step = _per_image(tf.pow(2.0, 8.0 - bits))
    return tf.floor(tf.round(x) / step) * step


def _k_solarize(x, magnitude, ctx):
    del ctx
    threshold = _per_image(tf.floor(magnitude / MAX_MAGNITUDE * 256.0))
    return tf.where(x < threshold, x, 255.0 - x)


def _k_solarize_add(x, magnitude, ctx):
    del ctx
    addition = _per_image(tf.floor(magnitude / MAX_MAGNITUDE * 110.0))
    return tf.where(x < 128.0, tf.minimum(x + addition, 255.0), x)


def _k_autocontrast(x, magnitude, ctx):
    # PIL ImageOps.autocontrast (cutoff 0): per channel, stretch [min, max] to [0, 255] as a
    # lookup table; a constant channel is left unchanged.
    del magnitude, ctx
    flat = _flat_levels(x)
    q = tf.round(x)
    lo = tf.reduce_min(q, axis=[1, 2])[:, :, None]
    hi = tf.reduce_max(q, axis=[1, 2])[:, :, None]
    # float64 and PIL's "level * scale + offset" form reproduce its truncation exactly.
    scale = 255.0 / tf.cast(tf.maximum(hi - lo, 1.0), tf.float64)
    offset = -tf.cast(lo, tf.float64) * scale
    stretched = tf.floor(tf.cast(_levels(), tf.float64) * scale + offset)
    stretched = tf.cast(tf.clip_by_value(stretched, 0.0, 255.0), tf.float32)
    return _apply_lut(flat, tf.where(hi > lo, stretched, _levels()))


def _k_equalize(x, magnitude, ctx):
    # PIL ImageOps.equalize: step = (number of pixels - count of the last occupied level)
    # // 255; level i maps to (step // 2 + pixels below i) // step; identity when step is 0.
    del magnitude, ctx
    flat = _flat_levels(x)
    hist = _histograms(flat, tf.shape(x)[0], x.shape[-1])
    total = tf.reduce_sum(hist, axis=-1, keepdims=True)
    occupied = tf.cast(hist > 0, tf.int32)
    last_index = 255 - tf.argmax(tf.reverse(occupied, [-1]), axis=-1, output_type=tf.int32)
    last_count = tf.gather(hist, last_index, batch_dims=2)[..., None]
    step = tf.floor((total - last_count) / 255.0)
    below = tf.cumsum(hist, axis=-1, exclusive=True)
    mapped = tf.floor((tf.floor(step / 2.0) + below) / tf.maximum(step, 1.0))
    return _apply_lut(flat, tf.where(step > 0, tf.minimum(mapped, 255.0), _levels()))


def _enhance_factor(magnitude: tf.Tensor) -> tf.Tensor:
    return magnitude / MAX_MAGNITUDE * 1.8 + 0.1


def _blend(degenerate, x, magnitude, ctx):
    """PIL Image.blend(degenerate, x, factor), which truncates to uint8."""
    factor = _per_image(_enhance_factor(magnitude))
    out = tf.clip_by_value(degenerate + factor * (x - degenerate), 0.0, 255.0)
    return tf.floor(out) if ctx.quantized else out


def _gray(x, ctx):
    gray = _grayscale(x)
    return tf.round(gray) if ctx.quantized else gray


def _k_color(x, magnitude, ctx):
    # PIL ImageEnhance.Color blends with the grayscale image (a no-op for one channel).
    return _blend(_gray(x, ctx), x, magnitude, ctx)


def _k_contrast(x, magnitude, ctx):
    # PIL ImageEnhance.Contrast blends with a constant image at the (rounded) mean luma.
    mean = tf.reduce_mean(_gray(x, ctx), axis=[1, 2, 3], keepdims=True)
    if ctx.quantized:
        mean = tf.floor(mean + 0.5)
    return _blend(mean, x, magnitude, ctx)


def _k_brightness(x, magnitude, ctx):
    factor = _per_image(_enhance_factor(magnitude))
    out = tf.clip_by_value(factor * x, 0.0, 255.0)
    return tf.floor(out) if ctx.quantized else out


def _smooth(x: tf.Tensor, quantized: bool) -> tf.Tensor:
    """PIL ImageFilter.SMOOTH (3x3, centre 5, others 1, /13); border pixels keep their value."""
    # Separable 3x3 box sum plus 4x the centre; slicing keeps empty batches well-shaped.
    rows = x[:, :, :-2] + x[:, :, 1:-1] + x[:, :, 2:]
    box = rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]
    smooth = (box + 4.0 * x[:, 1:-1, 1:-1]) / 13.0
    if quantized:
        smooth = tf.round(smooth)
    # Paste the smoothed interior into the original, keeping its one-pixel border.
    return tf.concat(
        [
            x[:, :1],
            tf.concat([x[:, 1:-1, :1], smooth, x[:, 1:-1, -1:]], axis=2),
            x[:, -1:],
        ],
        axis=1,
    )


def _k_sharpness(x, magnitude, ctx):
    # PIL ImageEnhance.Sharpness blends with the SMOOTH-filtered image.
    return _blend(_smooth(x, ctx.quantized), x, magnitude, ctx)


@_no_autograph
def projective_transform(
    x: tf.Tensor,
    transforms: tf.Tensor,
    interpolation: str = "NEAREST",
    fill_mode: str = "CONSTANT",
    fill_value: float = FILL_VALUE,
) -> tf.Tensor:
    """Warps each image of ``x`` [B, H, W, C] float32 by its own ``transforms`` row [B, 8].

    A row ``[a0, a1, a2, b0, b1, b2, c0, c1]`` maps output ``(x, y)`` to input
    ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with ``k = c0 x + c1 y + 1``.
    """
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=x,
        transforms=transforms,
        output_shape=tf.shape(x)[1:3],
        fill_value=tf.constant(fill_value, tf.float32),
        interpolation=interpolation,
        fill_mode=fill_mode,
    )


@_no_autograph
def warp_affine_nearest(x: tf.Tensor, affine: tf.Tensor, fill_value: float = FILL_VALUE):
    """Nearest-neighbour affine warp of each image by its own matrix, as one batched gather.

    Semantics of ``projective_transform`` with NEAREST sampling, CONSTANT fill and
    ``c0 = c1 = 0`` (identical except for source coordinates exactly at -0.5, where
    ``std::round`` picks the outside pixel). The source coordinates are computed once per
    pixel rather than per channel, out-of-image samples hit a one-pixel border of
    ``fill_value`` instead of being masked, and the sampling is a batched ``tf.gather``:
    faster on CPU than ``ImageProjectiveTransformV3`` and compilable by XLA.

    Args:
      x: ``[B, H, W, C]`` float32.
      affine: ``[B, 6]`` rows ``[a0, a1, a2, b0, b1, b2]`` mapping output ``(x, y)`` to
        input ``(a0 x + a1 y + a2, b0 x + b1 y + b2)``.
      fill_value: value of pixels that map outside the input.

    Returns:
      ``[B, H, W, C]`` float32.
    """
    shape = tf.shape(x)
    batch, height, width = shape[0], shape[1], shape[2]
    h, w = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    xs = tf.range(w)[None, None, :]
    ys = tf.range(h)[None, :, None]
    a0, a1, a2, b0, b1, b2 = (affine[:, i, None, None] for i in range(6))
    # Rounded source coordinates, clipped to the border ring at -1 and H (or W).
    src_x = tf.floor((a0 * xs + (a2 + 0.5)) + a1 * ys)
    src_y = tf.floor(b0 * xs + (b1 * ys + (b2 + 0.5)))
    col = tf.clip_by_value(src_x, -1.0, w) + 1.0
    row = tf.clip_by_value(src_y, -1.0, h) + 1.0
    index = tf.cast(row * (w + 2.0) + col, tf.int32)
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=fill_value)
    pixels = tf.reshape(padded, [batch, (height + 2) * (width + 2), x.shape[-1]])
    warped = tf.gather(pixels, tf.reshape(index, [batch, -1]), batch_dims=1)
    return tf.reshape(warped, shape)


def _geometric_kernel(name: str) -> Callable:
    def kernel(x, magnitude, ctx):
        m = magnitude / MAX_MAGNITUDE * _random_sign(tf.shape(x)[0])
        height, width = tf.cast(tf.shape(x)[1], tf.float32), tf.cast(tf.shape(x)[2], tf.float32)
        ones, zeros = tf.ones_like(m), tf.zeros_like(m)
        if name == "Rotate":
            # Rotation about the image centre; output -> input is the inverse rotation.
            theta = m * (30.0 * math.pi / 180.0)
            cos, sin = tf.cos(theta), tf.sin(theta)
            cx, cy = (width - 1.0) / 2.0, (height - 1.0) / 2.0
            row = (cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy)
        elif name == "ShearX":
            # Pillow maps pixel centres (x + 0.5, y + 0.5); the warp maps corners (x, y), so
            # the offset s / 2 makes the result Pillow's pixel for pixel.
            row = (ones, 0.3 * m, 0.15 * m, zeros, ones, zeros)
        elif name == "ShearY":
            row = (ones, zeros, zeros, 0.3 * m, ones, 0.15 * m)
        elif name == "TranslateX":
            row = (ones, zeros, m * ctx.translate_fraction * width, zeros, ones, zeros)
        else:  # TranslateY
            row = (ones, zeros, zeros, zeros, ones, m * ctx.translate_fraction * height)
        return warp_affine_nearest(x, tf.stack(row, axis=1))

    return kernel


def _square_mask(height, width, cy, cx, half) -> tf.Tensor:
    """[B, H, W, 1] float 1.0 inside the per-image square [cy-half, cy+half) x [cx-...)."""
    rows = tf.range(height, dtype=tf.float32)[None, :]
    cols = tf.range(width, dtype=tf.float32)[None, :]
    in_rows = tf.cast(
        (rows >= cy[:, None] - half[:, None]) & (rows < cy[:, None] + half[:, None]), tf.float32
    )
    in_cols = tf.cast(
        (cols >= cx[:, None] - half[:, None]) & (cols < cx[:, None] + half[:, None]), tf.float32
    )
    return (in_rows[:, :, None] * in_cols[:, None, :])[..., None]


def _paste(x, mask, value):
    return x + mask * (value - x)


def _k_cutout(x, magnitude, ctx):
    batch, height, width = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    size = tf.cast(tf.minimum(height, width), tf.float32)
    half = tf.floor(magnitude / MAX_MAGNITUDE * ctx.cutout_fraction * size)
    cy = tf.floor(rng.uniform([batch]) * tf.cast(height, tf.float32))
    cx = tf.floor(rng.uniform([batch]) * tf.cast(width, tf.float32))
    return _paste(x, _square_mask(height, width, cy, cx, half), FILL_VALUE)


_KERNELS = {
    "Identity": _k_identity,
    "AutoContrast": _k_autocontrast,
    "Equalize": _k_equalize,
    "Invert": _k_invert,
    "Posterize": _k_posterize,
    "Solarize": _k_solarize,
    "SolarizeAdd": _k_solarize_add,
    "Color": _k_color,
    "Contrast": _k_contrast,
    "Brightness": _k_brightness,
    "Sharpness": _k_sharpness,
    "Rotate": _geometric_kernel("Rotate"),
    "ShearX": _geometric_kernel("ShearX"),
    "ShearY": _geometric_kernel("ShearY"),
    "TranslateX": _geometric_kernel("TranslateX"),
    "TranslateY": _geometric_kernel("TranslateY"),
    "Cutout": _k_cutout,
}


# --------------------------------------------------------------------------- dispatch


@_no_autograph
def apply_per_image(
    x: tf.Tensor,
    op_index: tf.Tensor,
    magnitude: tf.Tensor,
    names: Sequence[str],
    quantized: bool,
    translate_fraction: float = TRANSLATE_FRACTION,
    cutout_fraction: float = CUTOUT_FRACTION,
) -> tf.Tensor:
    """Applies op ``names[op_index[b]]`` with ``magnitude[b]`` to image ``b``, all in a batch.

    The engine behind ``OPS``, RandAugment and AutoAugment policies. The batch is grouped
    by op (``tf.dynamic_partition``), each op runs once, batched, on its own group, and the
    results are put back in order (``tf.dynamic_stitch``): choosing among 17 ops per image
    costs about one op application per image, plus two copies.

    Args:
      x: ``[B, H, W, C]`` float32 on the 0..255 scale (see ``to_float255``).
      op_index: ``[B]`` int32 indices into ``names``.
      magnitude: ``[B]`` float32 magnitudes on the 0..10 scale (not validated here).
      names: op names from ``OP_NAMES`` (validated by the callers).
      quantized: round results to integers (uint8 input), as PIL does.
      translate_fraction: maximum translation as a fraction of the image size.
      cutout_fraction: maximum cutout half-side as a fraction of the smaller image side.

    Returns:
      ``[B, H, W, C]`` float32 on the 0..255 scale.
    """
    ctx = _Context(bool(quantized), float(translate_fraction), float(cutout_fraction))
    magnitude = tf.cast(magnitude, tf.float32)
    if len(names) == 1:
        return _KERNELS[names[0]](x, magnitude, ctx)
    op_index = tf.cast(op_index, tf.int32)
    count = len(names)
    images = tf.dynamic_partition(x, op_index, count)
    magnitudes = tf.dynamic_partition(magnitude, op_index, count)
    positions = tf.dynamic_partition(tf.range(tf.shape(x)[0]), op_index, count)
    outputs = [
        _KERNELS[name](part, m, ctx)
        for name, part, m in zip(names, images, magnitudes, strict=True)
    ]
    out = tf.dynamic_stitch(positions, outputs)
    out.set_shape(x.shape)
    return out


@_no_autograph
def apply_op(images, name: str, magnitude=MAX_MAGNITUDE, **kwargs) -> tf.Tensor:
    """Applies the op ``name`` (a key of ``OPS``) to every image of a batch.

    Args:
      images: ``[B, H, W, C]`` float32 in [0, 1] or uint8.
      name: op name, e.g. ``"Rotate"``.
      magnitude: scalar or ``[B]`` in [0, 10].
      **kwargs: ``translate_fraction`` / ``cutout_fraction`` overrides.

    Returns:
      the augmented batch, same shape and dtype.
    """
    check_op_name(name)
    images = check_images(images)
    check_magnitude(magnitude)
    magnitude_shape = tf.TensorShape(
        np.shape(magnitude) if not tf.is_tensor(magnitude) else magnitude.shape
    )
    if magnitude_shape.rank == 1 and not magnitude_shape.is_compatible_with(images.shape[:1]):
        raise ValueError(
            f"magnitude must be a scalar or one value per image ({images.shape[0]}), got "
            f"shape {magnitude_shape}"
        )
    unknown = set(kwargs) - {"translate_fraction", "cutout_fraction"}
    if unknown:
        raise ValueError(
            f"unknown argument(s) {sorted(unknown)} for op {name!r}; "
            "expected translate_fraction or cutout_fraction"
        )
    if name == "Identity":
        return images
    batch = tf.shape(images)[0]
    x = to_float255(images)
    x = apply_per_image(
        x,
        tf.zeros([batch], tf.int32),
        _batch_vector(magnitude, batch),
        [name],
        quantized=images.dtype == tf.uint8,
        **kwargs,
    )
    return from_float255(x, images.dtype)


def _make_op(name: str) -> Callable:
    def op(images, magnitude=MAX_MAGNITUDE, **kwargs):
        return apply_op(images, name, magnitude, **kwargs)

    op.__name__ = name
    op.__qualname__ = name
    op.__doc__ = (
        f"{name} on a batch ``[B, H, W, C]`` (float32 [0, 1] or uint8) with a scalar or [B] "
        "magnitude in [0, 10]; see the module docstring for the magnitude mapping."
    )
    return op


#: The AutoAugment/RandAugment ops plus Identity: ``fn(images, magnitude) -> images``.
OPS: dict[str, Callable] = {name: _make_op(name) for name in OP_NAMES}


# --------------------------------------------------------------------------- simple random ops


def _per_image_mask(batch, p) -> tf.Tensor:
    return rng.uniform([batch]) < p


@_no_autograph
def random_flip_left_right(images, p: float = 0.5) -> tf.Tensor:
    """Flips each image horizontally with probability ``p``. images: [B, H, W, C]."""
    images = check_images(images)
    check_probability(p, "p")
    flip = _per_image_mask(tf.shape(images)[0], p)[:, None, None, None]
    return tf.where(flip, tf.reverse(images, axis=[2]), images)


@_no_autograph
def random_flip_up_down(images, p: float = 0.5) -> tf.Tensor:
    """Flips each image vertically with probability ``p``. images: [B, H, W, C]."""
    images = check_images(images)
    check_probability(p, "p")
    flip = _per_image_mask(tf.shape(images)[0], p)[:, None, None, None]
    return tf.where(flip, tf.reverse(images, axis=[1]), images)


@_no_autograph
def random_pad_crop(images, pad_fraction: float = 0.125, mode: str = "REFLECT") -> tf.Tensor:
    """Pads by ``pad_fraction`` of each side and takes a random crop of the original size.

    The standard CIFAR augmentation (4 px of 32, reflect padding as in FixMatch's
    ``augment_shift``). Each image gets its own offset; the crop is two batched gathers.

    Args:
      images: ``[B, H, W, C]`` float32 [0, 1] or uint8.
      pad_fraction: padding as a fraction of height/width, in [0, 1).
      mode: ``"REFLECT"``, ``"SYMMETRIC"`` or ``"CONSTANT"`` (zeros), as ``tf.pad``.
    """
    images = check_images(images)
    if not 0.0 <= pad_fraction < 1.0:
        raise ValueError(f"pad_fraction must be in [0, 1), got {pad_fraction!r}")
    if mode not in ("REFLECT", "SYMMETRIC", "CONSTANT"):
        raise ValueError(f"mode must be REFLECT, SYMMETRIC or CONSTANT, got {mode!r}")
    height, width = images.shape[1], images.shape[2]
    if height is None or width is None:
        raise ValueError(f"random_pad_crop needs a static image size, got shape {images.shape}")
    pad_h, pad_w = int(round(pad_fraction * height)), int(round(pad_fraction * width))
    if pad_h == 0 and pad_w == 0:
        return images
    if mode == "REFLECT" and (pad_h >= height or pad_w >= width):
        raise ValueError(f"reflect padding {pad_h}x{pad_w} must be smaller than the image")
    padded = tf.pad(images, [[0, 0], [pad_h, pad_h], [pad_w, pad_w], [0, 0]], mode=mode)
    batch = tf.shape(images)[0]
    dy = rng.uniform([batch, 1], 0, 2 * pad_h + 1, dtype=tf.int32)
    dx = rng.uniform([batch, 1], 0, 2 * pad_w + 1, dtype=tf.int32)
    rows = dy + tf.range(height)[None, :]
    cols = dx + tf.range(width)[None, :]
    cropped = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(cropped, cols, axis=2, batch_dims=1)


@_no_autograph
def random_resized_crop(
    images,
    size: tuple[int, int] | None = None,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
    attempts: int = 10,
) -> tf.Tensor:
    """Inception-style random resized crop, one box per image, bilinear resize.

    Samples an area fraction in ``scale`` and a log-uniform aspect ratio in ``ratio``; the
    first of ``attempts`` draws that fits is used, else the whole image (as
    ``tf.image.sample_distorted_bounding_box`` falls back in SimCLR's pipeline, Chen et al.
    2020, https://arxiv.org/abs/2002.05709). All crops go through one
    ``tf.image.crop_and_resize``.

    Args:
      images: ``[B, H, W, C]`` float32 [0, 1] or uint8.
      size: output ``(height, width)``; default the input size.
      scale: range of the crop area as a fraction of the image area, within (0, 1].
      ratio: range of the crop aspect ratio width / height.
      attempts: number of draws per image.

    Returns:
      ``[B, size[0], size[1], C]``, same dtype.
    """
    images = check_images(images)
    if not (0.0 < scale[0] <= scale[1] <= 1.0):
        raise ValueError(f"scale must satisfy 0 < low <= high <= 1, got {scale!r}")
    if not (0.0 < ratio[0] <= ratio[1]):
        raise ValueError(f"ratio must satisfy 0 < low <= high, got {ratio!r}")
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts!r}")
    shape = tf.shape(images)
    batch = shape[0]
    height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    if size is None:
        size = (images.shape[1], images.shape[2])
    if any(s is None or int(s) < 1 for s in size):
        raise ValueError(f"size must be two positive ints (or the input size static), got {size}")
    area = rng.uniform([batch, attempts], scale[0], scale[1]) * height * width
    log_ratio = rng.uniform([batch, attempts], math.log(ratio[0]), math.log(ratio[1]))
    aspect = tf.exp(log_ratio)
    crop_w = tf.sqrt(area * aspect)
    crop_h = tf.sqrt(area / aspect)
    fits = (crop_w <= width) & (crop_h <= height)
    first = tf.argmax(tf.cast(fits, tf.int32), axis=1, output_type=tf.int32)
    found = tf.reduce_any(fits, axis=1)
    crop_w = tf.where(found, tf.gather(crop_w, first, batch_dims=1), width)
    crop_h = tf.where(found, tf.gather(crop_h, first, batch_dims=1), height)
    y0 = rng.uniform([batch]) * (height - crop_h)
    x0 = rng.uniform([batch]) * (width - crop_w)
    boxes = tf.stack(
        [y0 / height, x0 / width, (y0 + crop_h) / height, (x0 + crop_w) / width], axis=1
    )
    x = tf.image.crop_and_resize(
        to_float255(images), boxes, tf.range(batch), [int(size[0]), int(size[1])]
    )
    return from_float255(x, images.dtype)


def intensity_jitter(images, strength: float = 0.4) -> tf.Tensor:
    """Independent contrast and brightness per image, for patches cut from one image.

    Every image gets a contrast factor ``f ~ U[1 - s, 1 + s]`` about its own mean
    (over pixels and channels) and then an additive brightness shift
    ``d ~ U[-s/2, s/2]``; the result is clipped to [0, 1]. Used on the patches of
    patch-based pretext tasks (CPC v2's patch-wise augmentation, Henaff et al. 2020;
    the jigsaw paper's per-tile normalisation serves the same end) so that neighbouring
    patches cannot be matched by their intensity statistics. Unlike SimCLR's
    multiplicative brightness, the shift also moves a blank background.

    Args:
      images: ``[B, H, W, C]`` float32 in [0, 1].
      strength: ``s`` in [0, 1].
    """
    check_probability(strength, "intensity_jitter strength")
    x = tf.convert_to_tensor(images, tf.float32)
    batch = tf.shape(x)[0]
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    factor = rng.uniform([batch, 1, 1, 1], 1.0 - strength, 1.0 + strength)
    shift = rng.uniform([batch, 1, 1, 1], -strength / 2, strength / 2)
    return tf.clip_by_value((x - mean) * factor + mean + shift, 0.0, 1.0)


@_no_autograph
def random_grayscale(images, p: float = 0.2) -> tf.Tensor:
    """Replaces each image by its luma (kept as C channels) with probability ``p``."""
    images = check_images(images)
    check_probability(p, "p")
    if images.shape[-1] == 1:
        return images
    x = to_float255(images)
    gray = tf.broadcast_to(_grayscale(x), tf.shape(x))
    chosen = _per_image_mask(tf.shape(x)[0], p)[:, None, None, None]
    return from_float255(tf.where(chosen, gray, x), images.dtype)


def _rgb_to_hsv_adjust(x01, saturation, hue):
    """Per-image saturation factor and hue shift [B] on float [0, 1] RGB images."""
    hsv = tf.image.rgb_to_hsv(x01)
    h, s, v = tf.unstack(hsv, axis=-1)
    h = tf.math.floormod(h + hue[:, None, None], 1.0)
    s = tf.clip_by_value(s * saturation[:, None, None], 0.0, 1.0)
    return tf.image.hsv_to_rgb(tf.stack([h, s, v], axis=-1))


@_no_autograph
def color_jitter(
    images,
    strength: float = 1.0,
    p: float = 0.8,
    brightness: float = 0.8,
    contrast: float = 0.8,
    saturation: float = 0.8,
    hue: float = 0.2,
) -> tf.Tensor:
    """SimCLR colour jitter: brightness, contrast, saturation, hue in a random order per image.

    As in SimCLR's ``color_jitter_rand`` (Chen et al. 2020, Appendix A; google-research/simclr
    ``data_util.py``, v2 brightness): with probability ``p`` an image gets a multiplicative
    brightness factor in ``[1 - b, 1 + b]``, a contrast factor in ``[1 - c, 1 + c]``
    (blend with the per-channel mean, as ``tf.image.adjust_contrast``), a saturation factor
    in ``[1 - s, 1 + s]`` and a hue shift in ``[-h, h]`` (HSV), where ``b, c, s, h`` are the
    arguments times ``strength``; the four are applied in a random order per image, with
    clipping to the valid range after each. One-channel images get brightness and contrast
    only.

    Args:
      images: ``[B, H, W, C]`` float32 [0, 1] or uint8.
      strength: SimCLR's colour strength ``s`` (1.0 ImageNet, 0.5 CIFAR-10).
    """
    images = check_images(images)
    check_probability(p, "p")
    for name, value in (
        ("strength", strength),
        ("brightness", brightness),
        ("contrast", contrast),
        ("saturation", saturation),
    ):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
    if not 0.0 <= hue * strength <= 0.5:
        raise ValueError(f"hue * strength must be in [0, 0.5], got {hue * strength!r}")
    x = to_float255(images) / 255.0
    batch = tf.shape(x)[0]
    apply = _per_image_mask(batch, p)

    def factor(amount):
        amount = amount * strength
        return _uniform([batch], max(0.0, 1.0 - amount), 1.0 + amount)

    b_factor, c_factor = factor(brightness), factor(contrast)
    s_factor = factor(saturation)
    h_shift = _uniform([batch], -hue * strength, hue * strength)
    color = x.shape[-1] == 3
    order = tf.argsort(rng.uniform([batch, 4 if color else 2]), axis=1)
    for stage in range(order.shape[1]):
        op = tf.where(apply, order[:, stage], -1)
        fb = tf.where(op == 0, b_factor, 1.0)[:, None, None, None]
        fc = tf.where(op == 1, c_factor, 1.0)[:, None, None, None]
        x = tf.clip_by_value(x * fb, 0.0, 1.0)
        mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
        x = tf.clip_by_value((x - mean) * fc + mean, 0.0, 1.0)
        if color:
            hsv_op = (op == 2) | (op == 3)
            adjusted = _rgb_to_hsv_adjust(
                x, tf.where(op == 2, s_factor, 1.0), tf.where(op == 3, h_shift, 0.0)
            )
            x = tf.where(hsv_op[:, None, None, None], tf.clip_by_value(adjusted, 0.0, 1.0), x)
    return from_float255(x * 255.0, images.dtype)


@_no_autograph
def gaussian_blur(
    images,
    p: float = 0.5,
    sigma: tuple[float, float] = (0.1, 2.0),
    kernel_fraction: float = 0.1,
) -> tf.Tensor:
    """Separable Gaussian blur with a per-image random sigma, applied with probability ``p``.

    SimCLR (Chen et al. 2020, Appendix A): sigma uniform in [0.1, 2.0], kernel side 10% of
    the image side (radius ``side // 20``, at least 1). Borders use reflect padding. The
    per-image kernels become per-image ``[H, H]`` and ``[W, W]`` banded matrices, so the blur
    is two batched matrix products.

    Args:
      images: ``[B, H, W, C]`` float32 [0, 1] or uint8 with a static size.
      sigma: (low, high) range of the standard deviation in pixels.
    """
    images = check_images(images)
    check_probability(p, "p")
    if not 0.0 < sigma[0] <= sigma[1]:
        raise ValueError(f"sigma must satisfy 0 < low <= high, got {sigma!r}")
    height, width = images.shape[1], images.shape[2]
    if height is None or width is None:
        raise ValueError(f"gaussian_blur needs a static image size, got shape {images.shape}")
    batch = tf.shape(images)[0]
    sig = _uniform([batch], sigma[0], sigma[1])
    sig = tf.where(_per_image_mask(batch, p), sig, 0.0)

    def blur_matrix(n):
        radius = max(1, int(kernel_fraction * n) // 2)
        offsets = np.arange(-radius, radius + 1)
        # Reflect (without repeating the edge) indices of i + d, as tf.pad REFLECT.
        idx = np.arange(n)[:, None] + offsets[None, :]
        period = max(2 * n - 2, 1)
        idx = np.mod(idx, period)
        idx = np.where(idx >= n, period - idx, idx)
        onehot = tf.one_hot(idx, n)  # [n, taps, n]
        d2 = tf.constant(offsets.astype(np.float32) ** 2)
        safe = tf.maximum(sig, 1e-3)[:, None]
        weights = tf.exp(-d2[None, :] / (2.0 * safe**2))
        # sigma 0 (not blurred) keeps only the centre tap: an exact identity.
        weights = tf.where(sig[:, None] > 0, weights, tf.cast(offsets == 0, tf.float32)[None])
        weights /= tf.reduce_sum(weights, axis=1, keepdims=True)
        return tf.einsum("bt,itj->bij", weights, onehot)

    x = to_float255(images)
    x = tf.einsum("bij,bjwc->biwc", blur_matrix(height), x)
    x = tf.einsum("bij,bhjc->bhic", blur_matrix(width), x)
    return from_float255(x, images.dtype)


@_no_autograph
def cutout(images, size: float = 0.5, fill: float = 0.5) -> tf.Tensor:
    """Cutout (DeVries & Taylor 2017): one square of side ``size * min(H, W)`` per image.

    The centre is uniform over the image and the square is clipped at the border, as in
    FixMatch's ``cutout_numpy``. Fill is ``fill`` on the [0, 1] scale (grey by default).

    Args:
      images: ``[B, H, W, C]`` float32 [0, 1] or uint8.
      size: side as a fraction of the smaller image side, in [0, 1].
    """
    images = check_images(images)
    check_probability(size, "size")
    check_probability(fill, "fill")
    x = to_float255(images)
    shape = tf.shape(x)
    batch, height, width = shape[0], shape[1], shape[2]
    side = tf.floor(size * tf.cast(tf.minimum(height, width), tf.float32))
    half = tf.fill([batch], side / 2.0)
    cy = tf.floor(rng.uniform([batch]) * tf.cast(height, tf.float32))
    cx = tf.floor(rng.uniform([batch]) * tf.cast(width, tf.float32))
    x = _paste(x, _square_mask(height, width, cy, cx, half), fill * 255.0)
    return from_float255(x, images.dtype)
