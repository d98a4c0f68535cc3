"""The CIFAR ResNets of He et al. (2016, Sec. 4.2): 6n + 2 layers, 16/32/64 channels,
option-A (parameter-free) shortcuts."""

from __future__ import annotations

import keras

from tfless.backbones.common import batch_norm, check_input_shape, finish

# PyTorch's BatchNorm2d defaults (momentum 0.1 of the new batch, eps 1e-5), as trained by
# the CIFAR ResNet recipes this network reproduces.
_BN_MOMENTUM = 0.9
_BN_EPSILON = 1e-5
# Kaiming normal over fan-out, N(0, 2 / (k * k * out_channels)).
_INIT = keras.initializers.VarianceScaling(2.0, mode="fan_out", distribution="untruncated_normal")
_CONV = dict(padding="same", use_bias=False, kernel_initializer=_INIT)


@keras.saving.register_keras_serializable(package="tfless")
class ShortcutA(keras.layers.Layer):
    """Option-A shortcut: keeps every ``stride``-th pixel (a 1x1 average pool with that
    stride) and appends zero channels up to ``filters``; it has no weights."""

    def __init__(self, filters: int, stride: int, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.stride = int(stride)

    def call(self, x):
        s = self.stride
        x = x[:, ::s, ::s, :]
        extra = self.filters - x.shape[-1]
        if extra:
            x = keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])
        return x

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        size = lambda d: None if d is None else -(-d // self.stride)
        return (b, size(h), size(w), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "stride": self.stride}


def _basic_block(x0, filters: int, stride: int, tag: str, bn_synchronized: bool):
    """conv-BN-ReLU-conv-BN, plus the shortcut, then ReLU (post-activation)."""
    bn = dict(momentum=_BN_MOMENTUM, epsilon=_BN_EPSILON, synchronized=bn_synchronized)
    x = keras.layers.Conv2D(filters, 3, strides=stride, name=f"{tag}_conv1", **_CONV)(x0)
    x = batch_norm(name=f"{tag}_bn1", **bn)(x)
    x = keras.layers.ReLU(name=f"{tag}_relu1")(x)
    x = keras.layers.Conv2D(filters, 3, name=f"{tag}_conv2", **_CONV)(x)
    x = batch_norm(name=f"{tag}_bn2", **bn)(x)
    shortcut = x0
    if stride != 1 or int(x0.shape[-1]) != filters:
        shortcut = ShortcutA(filters, stride, name=f"{tag}_shortcut")(x0)
    x = keras.layers.Add(name=f"{tag}_add")([shortcut, x])
    return keras.layers.ReLU(name=f"{tag}_out")(x)


def resnet_cifar(
    input_shape=(32, 32, 3),
    depth: int = 32,
    widths: tuple = (16, 32, 64),
    bn_synchronized: bool = False,
    pool: bool = True,
    name: str | None = None,
) -> keras.Model:
    """CIFAR ResNet-``depth`` (He, Zhang, Ren & Sun, "Deep Residual Learning for Image
    Recognition", CVPR 2016, arXiv 1512.03385, Sec. 4.2).

    A 3x3 stem of ``widths[0]`` channels, then three stages of ``(depth - 2) / 6`` basic
    blocks with ``widths`` channels (strides 1, 2, 2), option-A shortcuts (subsampling and
    zero-padded channels, no parameters), global average pooling. ResNet-32 (the default;
    registered as ``resnet32``) has 0.46M parameters and a 64-d feature: the ``cresnet32``
    of the SLA paper's CIFAR experiments (github.com/hankook/SLA).

    Args:
      input_shape: ``(H, W, C)``, at least 4x4.
      depth: ``6n + 2`` (20, 32, 44, 56, 110).
      widths: channels of the three stages.
      bn_synchronized: batch-norm statistics over all replicas.
      pool: global-average-pool the last map (else the ``features`` output is the map).
    """
    name = name or f"resnet{depth}"
    shape = check_input_shape(input_shape, name, min_size=4)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"{name}: depth must be 6n + 2 (20, 32, 44, 56, 110); got {depth!r}.")
    widths = tuple(widths)
    if len(widths) != 3 or any(not isinstance(w, int) or w < 1 for w in widths):
        raise ValueError(f"{name}: widths must be three positive ints; got {widths!r}.")
    if any(b < a for a, b in zip(widths, widths[1:])):
        raise ValueError(f"{name}: option-A shortcuts need non-decreasing widths; got {widths!r}.")
    inputs = keras.Input(shape)
    # Inputs in [0, 1] mapped to [-1, 1]: the authors' Normalize(0.5, 0.5).
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="normalize")(inputs)
    x = keras.layers.Conv2D(widths[0], 3, name="stem_conv", **_CONV)(x)
    x = batch_norm(_BN_MOMENTUM, _BN_EPSILON, bn_synchronized, name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    blocks = (depth - 2) // 6
    for s, filters in enumerate(widths):
        for b in range(blocks):
            stride = 2 if s > 0 and b == 0 else 1
            x = _basic_block(x, filters, stride, f"stage{s + 1}_block{b + 1}", bn_synchronized)
    return finish(inputs, x, name, pool)
