"""Backbones: ``BACKBONES[name](input_shape=..., **kwargs) -> keras.Model``.

Every backbone takes images in [0, 1] and returns a ``keras.Model`` whose
output layer is named ``features`` and which carries ``feature_dim``.
"""

from __future__ import annotations

import functools

import keras

from tfless.backbones.conv4 import conv4
from tfless.backbones.convnet import convnet
from tfless.backbones.resnet import resnet
from tfless.backbones.wide_resnet import wide_resnet

BACKBONES = {
    "convnet": convnet,
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
}


def build_backbone(name: str, input_shape, **kwargs) -> keras.Model:
    """Builds a registered backbone; raises ``ValueError`` naming the accepted names."""
    if name not in BACKBONES:
        raise ValueError(f"Unknown backbone {name!r}. Expected one of {sorted(BACKBONES)}.")
    return BACKBONES[name](input_shape=tuple(input_shape), **kwargs)


__all__ = ["BACKBONES", "build_backbone", "conv4", "convnet", "resnet", "wide_resnet"]
