"""Decoders shared by the dense-prediction pretext tasks (autoencoder, colorization)."""

from __future__ import annotations

import keras


def feature_map_model(encoder: keras.Model, what: str) -> keras.Model:
    """The encoder up to its last feature map (the input of its ``features`` layer).

    Shares the encoder's layers and weights, so training it trains the encoder.

    Raises:
      ValueError: if the encoder has no layer named ``features`` on a 4-D map (the
        tfless backbone convention, see :mod:`tfless.backbones`).
    """
    try:
        layer = encoder.get_layer("features")
    except ValueError as e:
        raise ValueError(
            f"{what} needs a tfless backbone whose output layer is named 'features'; "
            f"{encoder.name!r} has none."
        ) from e
    fmap = layer.input
    if len(fmap.shape) != 4:
        raise ValueError(
            f"{what} needs the 'features' layer of {encoder.name!r} to read a [B, h, w, D] "
            f"feature map; it reads {fmap.shape}."
        )
    return keras.Model(encoder.inputs, fmap, name=f"{encoder.name}_map")


def upsampling_decoder(
    input_shape, out_size: tuple[int, int], out_channels: int, width: int, name: str
) -> keras.Sequential:
    """Built decoder ``[B, h, w, D] -> [B, H', W', out_channels]`` (linear output).

    Doubles the resolution with bilinear upsampling + 3x3 conv-BN-ReLU blocks of
    ``width`` channels until it reaches ``out_size`` (resizing to it exactly), then a
    3x3 convolution to ``out_channels``.
    """
    h, w = int(input_shape[0]), int(input_shape[1])
    layers = [keras.Input(tuple(input_shape))]
    i = 0
    while h < out_size[0] or w < out_size[1] or i == 0:
        if h < out_size[0] or w < out_size[1]:
            layers.append(keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"up{i}"))
            h, w = 2 * h, 2 * w
        layers += [
            keras.layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}"),
            keras.layers.BatchNormalization(name=f"bn{i}"),
            keras.layers.ReLU(name=f"relu{i}"),
        ]
        i += 1
    if (h, w) != tuple(out_size):
        layers.append(keras.layers.Resizing(*out_size, interpolation="bilinear", name="resize"))
    layers.append(keras.layers.Conv2D(out_channels, 3, padding="same", name="out"))
    return keras.Sequential(layers, name=name)
