"""ResNet-18 / ResNet-50 with CIFAR or ImageNet stems."""

from __future__ import annotations

import keras

from tfless.backbones.common import check_input_shape, finish

_SPECS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
}
STEMS = ("cifar", "imagenet")


def resnet(
    input_shape=(32, 32, 3),
    depth: int = 18,
    stem: str = "cifar",
    width_multiplier: int = 1,
    bn_synchronized: bool = False,
    zero_init_residual: bool = False,
    pool: bool = True,
    name: str | None = None,
) -> keras.Model:
    """ResNet v1.5 (He et al. 2016; stride on the 3x3 conv of bottlenecks).

    ``stem='imagenet'``: 7x7/2 conv + 3x3/2 max-pool. ``stem='cifar'``: one 3x3/1
    conv and no pooling, the variant SimCLR and MoCo use on CIFAR (Chen et al.
    2020, appendix B.9). Batch norm momentum 0.9, epsilon 1e-5 (the reference
    ImageNet recipe). ResNet-18 gives a 512-d feature, ResNet-50 2048-d.

    Args:
      input_shape: ``(H, W, C)``.
      depth: 18, 34, 50 or 101.
      stem: ``'cifar'`` or ``'imagenet'``.
      width_multiplier: multiplies every width (SimCLR's 2x/4x ResNets).
      bn_synchronized: synchronize batch-norm statistics across replicas.
      zero_init_residual: start each residual branch's last BN at gamma = 0 (Goyal et al. 2017).
      pool: global-average-pool the last map.
    """
    name = name or f"resnet{depth}"
    if depth not in _SPECS:
        raise ValueError(f"{name}: depth must be one of {sorted(_SPECS)}; got {depth!r}.")
    if stem not in STEMS:
        raise ValueError(f"{name}: stem must be one of {STEMS}; got {stem!r}.")
    shape = check_input_shape(input_shape, name, min_size=8 if stem == "cifar" else 32)
    kind, blocks = _SPECS[depth]
    expansion = 4 if kind == "bottleneck" else 1
    conv = dict(padding="same", use_bias=False, kernel_initializer="he_normal")

    def bn(tag, zero=False):
        return keras.layers.BatchNormalization(
            momentum=0.9,
            epsilon=1e-5,
            synchronized=bn_synchronized,
            gamma_initializer="zeros" if zero else "ones",
            name=f"{tag}_bn",
        )

    def unit(x, filters, stride, tag):
        out = filters * expansion
        shortcut = x
        if stride != 1 or x.shape[-1] != out:
            shortcut = keras.layers.Conv2D(out, 1, strides=stride, name=f"{tag}_proj", **conv)(x)
            shortcut = bn(f"{tag}_proj")(shortcut)
        if kind == "basic":
            y = keras.layers.Conv2D(filters, 3, strides=stride, name=f"{tag}_conv1", **conv)(x)
            y = keras.layers.ReLU()(bn(f"{tag}_1")(y))
            y = keras.layers.Conv2D(filters, 3, name=f"{tag}_conv2", **conv)(y)
            y = bn(f"{tag}_2", zero_init_residual)(y)
        else:
            y = keras.layers.Conv2D(filters, 1, name=f"{tag}_conv1", **conv)(x)
            y = keras.layers.ReLU()(bn(f"{tag}_1")(y))
            y = keras.layers.Conv2D(filters, 3, strides=stride, name=f"{tag}_conv2", **conv)(y)
            y = keras.layers.ReLU()(bn(f"{tag}_2")(y))
            y = keras.layers.Conv2D(out, 1, name=f"{tag}_conv3", **conv)(y)
            y = bn(f"{tag}_3", zero_init_residual)(y)
        return keras.layers.ReLU(name=f"{tag}_out")(keras.layers.Add()([shortcut, y]))

    inputs = keras.Input(shape, name="image")
    base = 64 * width_multiplier
    if stem == "imagenet":
        x = keras.layers.Conv2D(base, 7, strides=2, name="stem_conv", **conv)(inputs)
        x = keras.layers.ReLU()(bn("stem")(x))
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same")(x)
    else:
        x = keras.layers.Conv2D(base, 3, name="stem_conv", **conv)(inputs)
        x = keras.layers.ReLU()(bn("stem")(x))
    for s, n in enumerate(blocks):
        for b in range(n):
            stride = 2 if (b == 0 and s > 0) else 1
            x = unit(x, base * 2**s, stride, f"s{s}b{b}")
    return finish(inputs, x, name, pool)
