"""Wide-ResNet-28-k, the network of the MixMatch/FixMatch benchmarks."""

from __future__ import annotations

import keras

from tfless.backbones.common import batch_norm, check_input_shape, finish

# FixMatch/MixMatch WRN: BN momentum 0.999 (slow running averages), leaky ReLU 0.1.
_BN_MOMENTUM = 0.999
_LEAK = 0.1


def wide_resnet(
    input_shape=(32, 32, 3),
    depth: int = 28,
    width: int = 2,
    bn_synchronized: bool = False,
    pool: bool = True,
    name: str | None = None,
) -> keras.Model:
    """WRN-depth-width (Zagoruyko & Komodakis 2016) as used by MixMatch/FixMatch.

    Pre-activation residual blocks in three groups of ``(depth - 4) / 6`` blocks
    with ``16k, 32k, 64k`` channels and strides 1, 2, 2; batch norm with momentum
    0.999 and leaky ReLU (slope 0.1) as in google-research/fixmatch. WRN-28-2
    has 1.47M parameters and a 128-d feature; WRN-28-8 (CIFAR-100) 23.4M / 512-d.

    Args:
      input_shape: ``(H, W, C)``; at least 8x8.
      depth: ``6n + 4``.
      width: widening factor ``k``.
      bn_synchronized: synchronize batch-norm statistics across replicas.
      pool: global-average-pool into ``[B, 64k]``.
    """
    name = name or f"wrn{depth}_{width}"
    if (depth - 4) % 6 or depth < 10:
        raise ValueError(f"{name}: depth must be 6n + 4 (e.g. 28); got {depth!r}.")
    if width < 1:
        raise ValueError(f"{name}: width must be >= 1; got {width!r}.")
    shape = check_input_shape(input_shape, name, min_size=8)
    n = (depth - 4) // 6
    conv = dict(padding="same", use_bias=False, kernel_initializer="he_normal")

    def bn_act(x, tag):
        x = batch_norm(_BN_MOMENTUM, synchronized=bn_synchronized, name=f"{tag}_bn")(x)
        return keras.layers.LeakyReLU(_LEAK, name=f"{tag}_act")(x)

    def block(x0, filters, stride, activate_before_residual, tag):
        x = bn_act(x0, f"{tag}_a")
        if activate_before_residual:
            x0 = x
        x = keras.layers.Conv2D(filters, 3, strides=stride, name=f"{tag}_conv1", **conv)(x)
        x = bn_act(x, f"{tag}_b")
        x = keras.layers.Conv2D(filters, 3, name=f"{tag}_conv2", **conv)(x)
        if x0.shape[-1] != filters or stride != 1:
            x0 = keras.layers.Conv2D(filters, 1, strides=stride, name=f"{tag}_proj", **conv)(x0)
        return keras.layers.Add(name=f"{tag}_add")([x0, x])

    inputs = keras.Input(shape, name="image")
    x = keras.layers.Conv2D(16, 3, name="stem_conv", **conv)(inputs)
    for g, (filters, stride) in enumerate([(16 * width, 1), (32 * width, 2), (64 * width, 2)]):
        for b in range(n):
            x = block(
                x,
                filters,
                stride if b == 0 else 1,
                activate_before_residual=(g == 0 and b == 0),
                tag=f"g{g}b{b}",
            )
    x = bn_act(x, "final")
    return finish(inputs, x, name, pool)
