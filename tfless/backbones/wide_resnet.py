"""Wide-ResNets of the MixMatch/FixMatch benchmarks: WRN-28-k and the 4-group WRN-37-2."""

from __future__ import annotations

import keras

from tfless.backbones.common import batch_norm, check_input_shape, finish

# FixMatch/MixMatch WRN: BN momentum 0.999 (slow running averages), leaky ReLU 0.1.
_BN_MOMENTUM = 0.999
_LEAK = 0.1


def _check_int(value, what: str, name: str, allowed=None, minimum=None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: {what} must be an int; got {value!r}.")
    if allowed is not None and value not in allowed:
        raise ValueError(f"{name}: {what} must be one of {list(allowed)}; got {value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: {what} must be >= {minimum}; got {value!r}.")
    return value


def _check_args(depth, width, groups, first_stride, name: str) -> None:
    _check_int(depth, "depth", name)
    if (depth - 4) % 6 or depth < 10:
        raise ValueError(f"{name}: depth must be 6n + 4 (e.g. 28); got {depth!r}.")
    _check_int(width, "width", name, minimum=1)
    _check_int(groups, "groups (number of residual groups)", name, minimum=1)
    _check_int(first_stride, "first_stride (stride of the first group)", name, allowed=(1, 2))


_CONV = dict(padding="same", use_bias=False, kernel_initializer="he_normal")


def _bn_act(x, tag: str, bn_synchronized: bool):
    x = batch_norm(_BN_MOMENTUM, synchronized=bn_synchronized, name=f"{tag}_bn")(x)
    return keras.layers.LeakyReLU(_LEAK, name=f"{tag}_act")(x)


def _block(x0, filters, stride, activate_before_residual, tag, bn_synchronized):
    """A pre-activation residual block; the first block shares its pre-activation."""
    x = _bn_act(x0, f"{tag}_a", bn_synchronized)
    if activate_before_residual:
        x0 = x
    x = keras.layers.Conv2D(filters, 3, strides=stride, name=f"{tag}_conv1", **_CONV)(x)
    x = _bn_act(x, f"{tag}_b", bn_synchronized)
    x = keras.layers.Conv2D(filters, 3, name=f"{tag}_conv2", **_CONV)(x)
    if x0.shape[-1] != filters or stride != 1:
        x0 = keras.layers.Conv2D(filters, 1, strides=stride, name=f"{tag}_proj", **_CONV)(x0)
    return keras.layers.Add(name=f"{tag}_add")([x0, x])


def wide_resnet(
    input_shape=(32, 32, 3),
    depth: int = 28,
    width: int = 2,
    groups: int = 3,
    first_stride: int = 1,
    bn_synchronized: bool = False,
    pool: bool = True,
    name: str | None = None,
) -> keras.Model:
    """WRN-depth-width (Zagoruyko & Komodakis 2016) as used by MixMatch/FixMatch.

    Pre-activation residual blocks in ``groups`` groups of ``(depth - 4) / 6`` blocks
    each; group ``g`` has ``16k * 2^g`` channels (``16k, 32k, 64k`` for the default
    three groups). The first group has stride ``first_stride``, every later group
    stride 2. Batch norm with momentum 0.999 and leaky ReLU (slope 0.1) as in
    google-research/fixmatch.

    * WRN-28-2 (defaults): 1.47M parameters, 128-d feature (CIFAR-10, SVHN).
    * WRN-28-8 (``width=8``): 23.4M parameters, 512-d feature (CIFAR-100).
    * WRN-37-2 (``depth=28, width=2, groups=4, first_stride=2``; registered as
      ``wrn37_2``): four groups of 4 blocks with 32/64/128/256 channels, 5.93M
      parameters, 256-d feature; FixMatch's STL-10 network. ``first_stride=2`` follows
      TorchSSL/USB (``wrn_var_37_2`` in microsoft/Semi-supervised-learning,
      ``semilearn/nets/wrn/wrn_var.py``): a 96x96 image runs through the groups at
      48/24/12/6. google-research/fixmatch's ``ResNet`` keeps the first group at
      stride 1 (96/48/24/12, about 4x the FLOPs); pass ``first_stride=1`` for that.

    ``depth`` fixes the blocks per group as in WRN-28, whatever ``groups`` is (the
    "37" of WRN-37-2 counts its 4 x 4 x 2 block convolutions, the stem and the 1x1
    projections).

    Args:
      input_shape: ``(H, W, C)``; at least ``2 * first_stride * 2^(groups - 1)`` on a side
        (8x8 for the defaults, 32x32 for WRN-37-2).
      depth: ``6n + 4`` (n blocks per group).
      width: widening factor ``k``.
      groups: number of residual groups (>= 1); 3 for WRN-28-k, 4 for WRN-37-2.
      first_stride: stride of the first group, 1 or 2; the later groups use 2.
      bn_synchronized: synchronize batch-norm statistics across replicas.
      pool: global-average-pool into ``[B, 16k * 2^(groups - 1)]``.
    """
    name = name or (
        f"wrn{depth}_{width}"
        if (groups, first_stride) == (3, 1)
        else f"wrn{depth}_{width}_g{groups}_s{first_stride}"
    )
    _check_args(depth, width, groups, first_stride, name)
    # At least 2x2 left after the last group.
    shape = check_input_shape(input_shape, name, min_size=2 * first_stride * 2 ** (groups - 1))
    n = (depth - 4) // 6
    inputs = keras.Input(shape, name="image")
    x = keras.layers.Conv2D(16, 3, name="stem_conv", **_CONV)(inputs)
    for g in range(groups):
        filters, stride = 16 * width * 2**g, (first_stride if g == 0 else 2)
        for b in range(n):
            x = _block(
                x,
                filters,
                stride if b == 0 else 1,
                activate_before_residual=(g == 0 and b == 0),
                tag=f"g{g}b{b}",
                bn_synchronized=bn_synchronized,
            )
    x = _bn_act(x, "final", bn_synchronized)
    return finish(inputs, x, name, pool)
