"""Backbones: shapes, sizes, registry errors."""

import numpy as np
import pytest

from tfless.backbones import BACKBONES, build_backbone


@pytest.mark.parametrize(
    "name, shape, dim",
    [
        ("convnet", (8, 8, 1), 128),
        ("conv4", (28, 28, 1), 64),
        ("wrn28_2", (32, 32, 3), 128),
        ("resnet18", (32, 32, 3), 512),
        ("resnet50_imagenet", (64, 64, 3), 2048),
    ],
)
def test_backbone_feature_output(name, shape, dim):
    model = build_backbone(name, shape)
    assert model.output.name.startswith("features") or model.layers[-1].name == "features"
    assert model.feature_dim == dim
    out = model(np.zeros((2, *shape), "float32"))
    assert tuple(out.shape) == (2, dim)


def test_published_parameter_counts():
    # WRN-28-2: 1.47M (FixMatch/MixMatch); ResNet-18 CIFAR: 11.2M; ResNet-50: 23.5M + fc.
    assert abs(build_backbone("wrn28_2", (32, 32, 3)).count_params() - 1.47e6) < 0.01e6
    assert abs(build_backbone("resnet18", (32, 32, 3)).count_params() - 11.17e6) < 0.02e6
    assert abs(build_backbone("resnet50", (32, 32, 3)).count_params() - 23.5e6) < 0.1e6


def test_pool_false_returns_the_feature_map():
    model = build_backbone("convnet", (16, 16, 1), pool=False)
    assert len(model.output.shape) == 4


def test_unknown_backbone_and_bad_shapes():
    with pytest.raises(ValueError, match=r"Unknown backbone 'vgg'.*'convnet'"):
        build_backbone("vgg", (8, 8, 1))
    with pytest.raises(ValueError, match=r"input_shape must be \(height, width, channels\)"):
        build_backbone("convnet", (8, 8))
    with pytest.raises(ValueError, match="too small"):
        build_backbone("conv4", (8, 8, 1))
    with pytest.raises(ValueError, match="depth must be 6n"):
        BACKBONES["wide_resnet"](input_shape=(32, 32, 3), depth=27)
