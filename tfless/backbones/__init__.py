"""Backbones: ``BACKBONES[name](input_shape=..., **kwargs) -> keras.Model``.

Every backbone takes images in [0, 1] and returns a ``keras.Model`` whose
output layer is named ``features`` and which carries ``feature_dim``.
"""

from __future__ import annotations

import functools

import keras

from tfless.backbones.allconv import allconv
from tfless.backbones.conv4 import conv4
from tfless.backbones.convnet import convnet
from tfless.backbones.resnet import resnet
from tfless.backbones.resnet_cifar import resnet_cifar
from tfless.backbones.resnet_v2_gn import BIT_ARCHITECTURES, bit_tiny, resnet_v2_gn
from tfless.backbones.wide_resnet import wide_resnet

BACKBONES = {
    "convnet": convnet,
    # The Neural Rendering Model's all-convolutional chain (small digits variant by default).
    "allconv": allconv,
    "conv4": conv4,
    "wrn28_2": functools.partial(wide_resnet, depth=28, width=2, name="wrn28_2"),
    "wrn28_8": functools.partial(wide_resnet, depth=28, width=8, name="wrn28_8"),
    # FixMatch's STL-10 network (96x96): 4 groups, 32..256 channels, first group stride 2.
    "wrn37_2": functools.partial(
        wide_resnet, depth=28, width=2, groups=4, first_stride=2, name="wrn37_2"
    ),
    "wide_resnet": wide_resnet,
    "resnet18": functools.partial(resnet, depth=18, name="resnet18"),
    "resnet18_imagenet": functools.partial(resnet, depth=18, stem="imagenet", name="resnet18"),
    "resnet50": functools.partial(resnet, depth=50, name="resnet50"),
    "resnet50_imagenet": functools.partial(resnet, depth=50, stem="imagenet", name="resnet50"),
    # The CIFAR ResNet-32 (16/32/64 channels, option-A shortcuts) of the SLA experiments.
    "resnet32": functools.partial(resnet_cifar, depth=32, name="resnet32"),
    # BiT's ResNetV2 with GroupNorm + weight standardization (R50x1 ... R152x4), and a tiny one.
    **{
        f"bit_{arch}": functools.partial(resnet_v2_gn, depth=d, width=w, name=f"bit_{arch}")
        for arch, (d, w) in BIT_ARCHITECTURES.items()
    },
    "bit_tiny": bit_tiny,
}


def build_backbone(name: str, input_shape, **kwargs) -> keras.Model:
    """Builds a registered backbone; raises ``ValueError`` naming the accepted names."""
    if name not in BACKBONES:
        raise ValueError(f"Unknown backbone {name!r}. Expected one of {sorted(BACKBONES)}.")
    return BACKBONES[name](input_shape=tuple(input_shape), **kwargs)


__all__ = [
    "BACKBONES",
    "allconv",
    "build_backbone",
    "conv4",
    "convnet",
    "resnet",
    "resnet_cifar",
    "resnet_v2_gn",
    "wide_resnet",
]
