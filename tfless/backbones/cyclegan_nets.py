"""CycleGAN's networks: the ResNet generator and the PatchGAN discriminator, sized by arguments.

Zhu, Park, Isola, Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks", ICCV 2017, arXiv 1703.10593; the generator follows Johnson et al.
2016 (c7s1-64, d128, d256, 9 residual blocks, u128, u64, c7s1-3 at 256 px), the
discriminator is the 70x70 PatchGAN (C64-C128-C256-C512, then a 1-channel convolution).
Instance normalization is ``GroupNormalization(groups=-1)`` without scale and offset
(the official code's ``InstanceNorm2d(affine=False)``); weights start from N(0, 0.02).

Images are in [0, 1] at both ends, as everywhere in tfless: the networks map them to
[-1, 1] inside and the generator's tanh output back to [0, 1]. Small variants for 16-32 px
digits take fewer filters, blocks and layers (``filters=16, num_blocks=2``; ``num_layers=2``).
"""

from __future__ import annotations

import keras
from keras import ops

from tfless.backbones.common import check_input_shape


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def _instance_norm(name):
    return keras.layers.GroupNormalization(
        groups=-1, epsilon=1e-5, center=False, scale=False, name=name
    )


class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by ``padding`` pixels on each side, reflecting the border."""

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, x):
        p = self.padding
        return ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        grow = 2 * self.padding
        return (b, None if h is None else h + grow, None if w is None else w + grow, c)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


def _conv(x, filters, kernel, stride, name, padding="same"):
    return keras.layers.Conv2D(
        filters, kernel, stride, padding=padding, kernel_initializer=_init(), name=name
    )(x)


def _residual_block(x, filters, name):
    y = ReflectionPadding2D(1, name=f"{name}_pad1")(x)
    y = _conv(y, filters, 3, 1, f"{name}_conv1", padding="valid")
    y = keras.layers.ReLU(name=f"{name}_relu")(_instance_norm(f"{name}_norm1")(y))
    y = ReflectionPadding2D(1, name=f"{name}_pad2")(y)
    y = _conv(y, filters, 3, 1, f"{name}_conv2", padding="valid")
    y = _instance_norm(f"{name}_norm2")(y)
    return keras.layers.Add(name=f"{name}_add")([x, y])


def resnet_generator(
    input_shape,
    filters: int = 64,
    num_downsampling: int = 2,
    num_blocks: int = 9,
    output_channels: int | None = None,
    name: str = "resnet_generator",
) -> keras.Model:
    """CycleGAN's ResNet generator ``[B, H, W, C] -> [B, H, W, C_out]``, images in [0, 1].

    Args:
      input_shape: ``(H, W, C)``; H and W must be divisible by ``2**num_downsampling``.
      filters: channels of the first 7x7 convolution (paper: 64); doubled per downsampling.
      num_downsampling: stride-2 convolutions before the residual blocks (paper: 2).
      num_blocks: residual blocks (paper: 9 at 256 px, 6 at 128 px).
      output_channels: channels of the output (default: the input's).
    """
    h, w, c = check_input_shape(input_shape, name, min_size=2**num_downsampling)
    if h % 2**num_downsampling or w % 2**num_downsampling:
        raise ValueError(
            f"{name}: {h}x{w} images must be divisible by 2**num_downsampling = "
            f"{2**num_downsampling}; resize them or lower num_downsampling."
        )
    if filters < 1 or num_blocks < 0 or num_downsampling < 0:
        raise ValueError(
            f"{name}: need filters >= 1, num_blocks >= 0, num_downsampling >= 0; got "
            f"{filters!r}, {num_blocks!r}, {num_downsampling!r}."
        )
    inputs = keras.Input((h, w, c), name="image")
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_signed")(inputs)
    x = ReflectionPadding2D(3, name="stem_pad")(x)
    x = _conv(x, filters, 7, 1, "stem_conv", padding="valid")
    x = keras.layers.ReLU(name="stem_relu")(_instance_norm("stem_norm")(x))
    width = filters
    for i in range(num_downsampling):
        width *= 2
        x = _conv(x, width, 3, 2, f"down{i}_conv")
        x = keras.layers.ReLU(name=f"down{i}_relu")(_instance_norm(f"down{i}_norm")(x))
    for i in range(num_blocks):
        x = _residual_block(x, width, f"block{i}")
    for i in range(num_downsampling):
        width //= 2
        x = keras.layers.Conv2DTranspose(
            width, 3, 2, padding="same", kernel_initializer=_init(), name=f"up{i}_conv"
        )(x)
        x = keras.layers.ReLU(name=f"up{i}_relu")(_instance_norm(f"up{i}_norm")(x))
    x = ReflectionPadding2D(3, name="out_pad")(x)
    x = _conv(x, output_channels or c, 7, 1, "out_conv", padding="valid")
    x = keras.layers.Activation("tanh", name="tanh")(x)
    outputs = keras.layers.Rescaling(0.5, offset=0.5, name="translated", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def patch_discriminator(
    input_shape,
    filters: int = 64,
    num_layers: int = 3,
    name: str = "patch_discriminator",
) -> keras.Model:
    """PatchGAN discriminator ``[B, H, W, C] -> [B, H / 2**num_layers, W / 2**num_layers, 1]``.

    ``num_layers`` stride-2 4x4 convolutions (the first without normalization), LeakyReLU
    0.2, then a stride-1 convolution with ``filters * 2**num_layers`` channels (capped at 8x)
    and a 1-channel 4x4 convolution: one real/fake score per patch, no sigmoid (the
    least-squares loss reads raw scores). ``num_layers=3`` is the 70x70 PatchGAN; "same"
    padding keeps the map a whole fraction of the image on small inputs.
    """
    h, w, c = check_input_shape(input_shape, name, min_size=2**num_layers)
    if filters < 1 or num_layers < 1:
        raise ValueError(
            f"{name}: need filters >= 1 and num_layers >= 1; got {filters!r}, {num_layers!r}."
        )
    inputs = keras.Input((h, w, c), name="image")
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_signed")(inputs)
    for i in range(num_layers):
        x = _conv(x, filters * min(2**i, 8), 4, 2, f"conv{i}")
        if i:
            x = _instance_norm(f"norm{i}")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"lrelu{i}")(x)
    x = _conv(x, filters * min(2**num_layers, 8), 4, 1, "conv_last")
    x = keras.layers.LeakyReLU(0.2, name="lrelu_last")(_instance_norm("norm_last")(x))
    x = _conv(x, 1, 4, 1, "patch_scores")
    outputs = keras.layers.Activation("linear", dtype="float32", name="scores")(x)
    return keras.Model(inputs, outputs, name=name)


__all__ = ["ReflectionPadding2D", "patch_discriminator", "resnet_generator"]
