"""All-convolutional network whose layers the Neural Rendering Model renders back through.

A plain chain ``(Conv2D 3x3 + bias -> LeakyReLU 0.1) ... MaxPool 2x2 ... -> global average
pool``: the structure of the AllConv-13 of the Neural Rendering Model's code (Ho et al.,
arXiv 1811.02657: 128-128-128-M-256-256-256-M-512-256-128-GAP) without batch normalization
and dropout, so that every layer has an exact top-down counterpart (a transposed
convolution with the same kernel, the ReLU state, the max-pooling switch). The default is a
small digits variant.
"""

from __future__ import annotations

import keras

from tfless.backbones.common import check_input_shape, finish

#: AllConv-13 of the NRM code (CIFAR, 32x32); "M" is a 2x2 max-pool.
ALLCONV13 = (128, 128, 128, "M", 256, 256, 256, "M", 512, 256, 128)
#: Small variant for 16-28 px digits.
ALLCONV_DIGITS = (32, "M", 64, "M", 128)


def allconv(
    input_shape=(16, 16, 1), layers=ALLCONV_DIGITS, name: str = "allconv", **_unused
) -> keras.Model:
    """Builds the chain ``[B, H, W, C] -> [B, D]`` (``D`` = the last width).

    Args:
      input_shape: ``(H, W, C)``; H and W divisible by 2 per ``"M"``.
      layers: widths of 3x3 convolutions (each followed by LeakyReLU 0.1) and ``"M"`` for
        2x2 max-pooling.
      **_unused: accepted and ignored (``bn_synchronized`` from the trainer: there is no
        batch norm here).
    """
    h, w, c = check_input_shape(input_shape, name)
    pools = sum(1 for item in layers if item == "M")
    if h % 2**pools or w % 2**pools:
        raise ValueError(
            f"{name}: {h}x{w} images must be divisible by {2**pools} for {pools} max-pools."
        )
    if not any(item != "M" for item in layers):
        raise ValueError(f"{name}: layers need at least one convolution width; got {layers!r}.")
    inputs = keras.Input((h, w, c), name="image")
    x = inputs
    for i, item in enumerate(layers):
        if item == "M":
            x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
        else:
            x = keras.layers.Conv2D(int(item), 3, padding="same", name=f"conv{i}")(x)
            x = keras.layers.LeakyReLU(0.1, name=f"lrelu{i}")(x)
    return finish(inputs, x, name, pool=True)
