"""A small ConvNet for 8x8 .. 32x32 images (digits, synthetic data, tests)."""

from __future__ import annotations

import keras

from tfless.backbones.common import batch_norm, check_input_shape, finish


def convnet(
    input_shape=(8, 8, 1),
    widths=(32, 64, 128),
    bn_synchronized: bool = False,
    bn_momentum: float = 0.99,
    pool: bool = True,
    norm: str = "batch",
    name: str = "convnet",
) -> keras.Model:
    """Three 3x3 conv-norm-ReLU blocks; max-pooling between blocks while the map is >= 4 pixels.

    Args:
      input_shape: ``(H, W, C)`` of images in [0, 1].
      widths: channels of each block; the feature size is ``widths[-1]``.
      bn_synchronized: synchronize batch-norm statistics across replicas.
      bn_momentum: momentum of the batch-norm moving statistics. Keras' 0.99 needs a few
        hundred steps to settle; runs of a few hundred steps on tiny data want 0.9.
      pool: global-average-pool the last map into ``[B, D]`` (else return the map).
      norm: ``"batch"`` (default), or ``"layer"``: layer normalization of each
        example's whole ``H x W x C`` map, which shares no statistics across the batch
        (CPC v2, Henaff et al. 2020, Sec. 4.1: batch norm lets patches of one image
        exchange information and harms CPC).

    Returns:
      ``keras.Model`` with output layer ``features``.
    """
    if norm not in ("batch", "layer"):
        raise ValueError(f"convnet norm must be 'batch' or 'layer'; got {norm!r}.")
    shape = check_input_shape(input_shape, name)
    inputs = keras.Input(shape, name="image")
    x = inputs
    size = min(shape[:2])
    for i, w in enumerate(widths):
        x = keras.layers.Conv2D(w, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        if norm == "batch":
            x = batch_norm(bn_momentum, synchronized=bn_synchronized, name=f"bn{i}")(x)
        else:
            # One group: statistics over the whole map, per-channel scale and offset
            # (so the same weights apply at any input size).
            x = keras.layers.GroupNormalization(groups=1, name=f"ln{i}")(x)
        x = keras.layers.ReLU(name=f"relu{i}")(x)
        if i < len(widths) - 1 and size >= 8:
            x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
            size //= 2
    return finish(inputs, x, name, pool)
