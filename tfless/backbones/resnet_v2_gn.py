"""BiT's ResNetV2: pre-activation bottlenecks with GroupNorm and weight-standardized convolutions.

"Big Transfer (BiT): General Visual Representation Learning" (Kolesnikov et al. 2020,
arXiv:1912.11370; official code google-research/big_transfer). Batch norm is replaced by
GroupNormalization(32) and every convolution standardizes its kernel (Qiao et al. 2019,
"Micro-Batch Training with Batch-Channel Normalization and Weight Standardization",
arXiv:1903.10520), so training does not depend on the per-device batch size.

:func:`load_bit_npz` reads the published BiT weight files (``BiT-M-R50x1.npz`` ...) into a
model built here, checking every name and shape first; :func:`save_bit_npz` writes one.
"""

from __future__ import annotations

import re

import keras
import numpy as np
from keras import ops

from tfless.backbones.common import check_input_shape, finish

#: Bottleneck units per stage.
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
#: The published BiT architectures ``name -> (depth, width factor)``.
BIT_ARCHITECTURES = {
    "r50x1": (50, 1),
    "r50x3": (50, 3),
    "r101x1": (101, 1),
    "r101x3": (101, 3),
    "r152x2": (152, 2),
    "r152x4": (152, 4),
}
STEMS = ("bit", "cifar")
#: Epsilon added to the kernel's variance (the official PyTorch and TF2 ``StdConv2d``).
WS_EPS = 1e-10


def standardize_kernel(kernel, eps: float = WS_EPS):
    """Weight standardization: each output filter of an ``[kh, kw, in, out]`` kernel minus
    its mean over ``(kh, kw, in)``, divided by ``sqrt(var + eps)``."""
    mean = ops.mean(kernel, axis=(0, 1, 2), keepdims=True)
    var = ops.var(kernel, axis=(0, 1, 2), keepdims=True)
    return (kernel - mean) / ops.sqrt(var + eps)


@keras.saving.register_keras_serializable(package="tfless")
class StandardizedConv2D(keras.layers.Conv2D):
    """``Conv2D`` whose kernel is standardized (:func:`standardize_kernel`) at every call."""

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, standardize_kernel(kernel))


def _conv(filters, size, name, stride=1, padding="same"):
    return StandardizedConv2D(
        filters, size, strides=stride, padding=padding, use_bias=False, name=name
    )


def _unit(x, out, stride, tag, groups):
    """A pre-activation bottleneck ``GN-ReLU-conv1x1, GN-ReLU-conv3x3/s, GN-ReLU-conv1x1``."""
    pre = keras.layers.ReLU()(keras.layers.GroupNormalization(groups, name=f"{tag}_a_gn")(x))
    shortcut = x
    if stride != 1 or x.shape[-1] != out:
        # BiT projects the pre-activated input, not the raw one.
        shortcut = _conv(out, 1, f"{tag}_proj", stride)(pre)
    mid = out // 4
    y = _conv(mid, 1, f"{tag}_a_conv")(pre)
    y = keras.layers.ReLU()(keras.layers.GroupNormalization(groups, name=f"{tag}_b_gn")(y))
    y = _conv(mid, 3, f"{tag}_b_conv", stride)(y)
    y = keras.layers.ReLU()(keras.layers.GroupNormalization(groups, name=f"{tag}_c_gn")(y))
    y = _conv(out, 1, f"{tag}_c_conv")(y)
    return keras.layers.Add(name=f"{tag}_out")([shortcut, y])


def resnet_v2_gn(
    input_shape=(128, 128, 3),
    depth: int = 50,
    width: int = 1,
    blocks: tuple[int, ...] | None = None,
    base_width: int = 64,
    groups: int = 32,
    stem: str = "bit",
    name: str | None = None,
    bn_synchronized: bool = False,
) -> keras.Model:
    """BiT ResNetV2 trunk ``[B, H, W, C] -> [B, 2048 * width]`` (R50x1: 2048-d features).

    The root is BiT's 7x7/2 convolution then a 3x3/2 max-pool (``stem="bit"``);
    ``stem="cifar"`` is one 3x3/1 convolution and no pooling, our choice for images of 32
    pixels and below (BiT itself up-samples CIFAR to 128 pixels). Stage ``s`` has
    ``blocks[s]`` units of output width ``4 * base_width * width * 2^s``, the first unit of
    stages 2+ striding 2 in its 3x3 convolution. After the last unit: GroupNorm, ReLU and
    global average pooling (the head's input; the fine-tuning head itself is the method's,
    zero-initialized, see :class:`tfless.methods.weak.BiT`).

    Args:
      input_shape: ``(H, W, C)``.
      depth: 50, 101 or 152 (ignored when ``blocks`` is given).
      width: width factor (1, 2, 3, 4 in BiT).
      blocks: units per stage, overriding ``depth`` (tiny test networks).
      base_width: root width before ``width``; 64 in BiT.
      groups: GroupNorm groups; 32 in BiT (every width must divide by it).
      stem: ``"bit"`` or ``"cifar"``.
      name: model name.
      bn_synchronized: accepted and ignored, so the trainer can pass it to every backbone:
        GroupNorm has no batch statistics to synchronize across replicas.
    """
    del bn_synchronized
    if blocks is None:
        if depth not in DEPTHS:
            raise ValueError(f"resnet_v2_gn: depth must be one of {sorted(DEPTHS)}; got {depth!r}.")
        blocks = DEPTHS[depth]
    name = name or f"bit_r{depth}x{width}"
    if stem not in STEMS:
        raise ValueError(f"{name}: stem must be one of {STEMS}; got {stem!r}.")
    root = base_width * width
    if root % groups:
        # Every width (root r, unit r * 2^s and 4 r * 2^s) is then a multiple of groups.
        raise ValueError(
            f"{name}: the root width base_width * width = {root} must be a multiple of "
            f"groups={groups}."
        )
    shape = check_input_shape(input_shape, name, min_size=8 if stem == "cifar" else 32)
    inputs = keras.Input(shape, name="image")
    if stem == "bit":
        x = keras.layers.ZeroPadding2D(3)(inputs)
        x = _conv(root, 7, "root_conv", 2, padding="valid")(x)
        x = keras.layers.ZeroPadding2D(1)(x)
        x = keras.layers.MaxPooling2D(3, strides=2)(x)
    else:
        x = _conv(root, 3, "root_conv")(inputs)
    for s, n in enumerate(blocks):
        for u in range(n):
            stride = 2 if (u == 0 and s > 0) else 1
            x = _unit(x, 4 * root * 2**s, stride, f"block{s + 1}_unit{u + 1:02d}", groups)
    x = keras.layers.GroupNormalization(groups, name="final_gn")(x)
    x = keras.layers.ReLU()(x)
    return finish(inputs, x, name, pool=True)


def bit_tiny(input_shape=(16, 16, 3), name: str = "bit_tiny", **kwargs) -> keras.Model:
    """A three-stage, one-unit-per-stage ResNetV2-GN (widths 32-64-128, GroupNorm(8)) for tests
    and small images; the same layers and weight names as the BiT networks."""
    opts = dict(blocks=(1, 1, 1), base_width=8, groups=8, stem="cifar")
    opts.update(kwargs)
    return resnet_v2_gn(input_shape, name=name, **opts)


# --------------------------------------------------------------------------- .npz files

_UNIT = re.compile(r"^block(\d+)_unit(\d+)_(a|b|c)_(conv|gn)$")
_PROJ = re.compile(r"^block(\d+)_unit(\d+)_proj$")


def _npz_prefix(layer_name: str) -> str | None:
    """The BiT checkpoint prefix of one of our layers (None: a layer without weights there)."""
    if layer_name == "root_conv":
        return "resnet/root_block/standardized_conv2d/"
    if layer_name == "final_gn":
        return "resnet/group_norm/"
    m = _UNIT.match(layer_name)
    if m:
        block, unit, part, kind = m.groups()
        leaf = "standardized_conv2d" if kind == "conv" else "group_norm"
        return f"resnet/block{block}/unit{int(unit):02d}/{part}/{leaf}/"
    m = _PROJ.match(layer_name)
    if m:
        return f"resnet/block{m.group(1)}/unit{int(m.group(2)):02d}/a/proj/standardized_conv2d/"
    return None


def bit_variable_names(model: keras.Model, head: keras.layers.Dense | None = None) -> dict:
    """``{BiT checkpoint name: keras variable}`` of a :func:`resnet_v2_gn` trunk (and head).

    Names follow the published files: ``resnet/root_block/standardized_conv2d/kernel``,
    ``resnet/block1/unit01/a/group_norm/gamma``, ``resnet/block1/unit01/a/proj/...``,
    ``resnet/group_norm/beta``, ``resnet/head/conv2d/kernel`` and ``.../bias``.
    """
    names = {}
    for layer in model.layers:
        prefix = _npz_prefix(layer.name)
        if prefix is None:
            continue
        if isinstance(layer, keras.layers.GroupNormalization):
            names[prefix + "gamma"] = layer.gamma
            names[prefix + "beta"] = layer.beta
        else:
            names[prefix + "kernel"] = layer.kernel
    if head is not None:
        names["resnet/head/conv2d/kernel"] = head.kernel
        names["resnet/head/conv2d/bias"] = head.bias
    return names


def save_bit_npz(model: keras.Model, path: str, head: keras.layers.Dense | None = None) -> None:
    """Writes the weights as a BiT ``.npz`` file.

    GroupNorm vectors are stored ``[C]`` and the head kernel ``[1, 1, D, K]``.
    """
    arrays = {}
    for key, var in bit_variable_names(model, head).items():
        value = np.asarray(var)
        if key == "resnet/head/conv2d/kernel":
            value = value[None, None]
        arrays[key] = value
    np.savez(path, **arrays)


def load_bit_npz(
    model: keras.Model, path: str, head: keras.layers.Dense | None = None, strict: bool = True
) -> list[str]:
    """Loads a BiT ``.npz`` weight file into a :func:`resnet_v2_gn` trunk (and ``head``).

    Every name and shape is checked before any weight is assigned, so a mismatched file
    leaves the model as it was. GroupNorm vectors may be stored ``[C]`` or ``[1, 1, 1, C]``,
    the head kernel ``[D, K]`` or ``[1, 1, D, K]``.

    Args:
      model: the built trunk.
      path: the ``.npz`` file.
      head: a built ``Dense`` to receive ``resnet/head/conv2d`` (fine-tuning from the
        pre-training head is rare: BiT zero-initializes a new one).
      strict: refuse a file holding weights the model has no place for (other than the
        head when ``head`` is None).

    Returns:
      The names of the file's arrays that were not loaded (the head when ``head`` is None).

    Raises:
      ValueError: names missing from the file, unexpected names (``strict``), or shapes that
        disagree, each naming the weight and both shapes.
    """
    with np.load(path) as f:
        stored = {k: f[k] for k in f.files}
    wanted = bit_variable_names(model, head)
    missing = sorted(set(wanted) - set(stored))
    if missing:
        raise ValueError(
            f"{path}: {len(missing)} weight(s) of {model.name!r} are missing from the file, "
            f"e.g. {missing[:3]}; is it the weight file of another architecture?"
        )
    unused = sorted(set(stored) - set(wanted))
    extra = [k for k in unused if not k.startswith("resnet/head/")]
    if strict and extra:
        raise ValueError(
            f"{path}: the file holds {len(extra)} weight(s) {model.name!r} has no place for, "
            f"e.g. {extra[:3]}; pass strict=False to ignore them."
        )
    values = {}
    for key, var in wanted.items():
        value = stored[key]
        target = tuple(var.shape)
        if value.shape != target and value.size == int(np.prod(target)):
            squeezed = value.reshape(target)
            # Only leading/trailing unit axes may differ; anything else is a real mismatch.
            if tuple(d for d in value.shape if d != 1) == tuple(d for d in target if d != 1):
                value = squeezed
        if value.shape != target:
            raise ValueError(
                f"{path}: weight {key!r} has shape {value.shape} in the file but {target} in "
                f"{model.name!r} (width, depth or number of classes differ)."
            )
        values[key] = value
    for key, var in wanted.items():
        var.assign(values[key].astype(var.dtype))
    return unused
