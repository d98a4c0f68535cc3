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
        ("wrn37_2", (96, 96, 3), 256),
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


def _wrn_param_count(groups, width, blocks, first_in=16, in_channels=3):
    """Independent count of a pre-activation WRN's parameters (BN: gamma, beta, mean, var)."""
    total = 9 * in_channels * first_in  # stem 3x3 conv, no bias
    c_in = first_in
    for g in range(groups):
        c = 16 * width * 2**g
        # First block of a group: BN(c_in), 3x3 c_in->c, BN(c), 3x3 c->c, 1x1 projection.
        total += 4 * c_in + 9 * c_in * c + 4 * c + 9 * c * c + c_in * c
        # Other blocks: BN(c), 3x3 c->c, BN(c), 3x3 c->c.
        total += (blocks - 1) * (8 * c + 18 * c * c)
        c_in = c
    return total + 4 * c_in  # final BN


def test_wrn37_2_is_four_groups_with_a_256d_feature():
    # By hand: stem 432; groups 70,592 + 280,448 + 1,117,952 + 4,464,128; final BN 1,024
    # -> 5,934,576 (count_params includes the BN moving statistics).
    model = build_backbone("wrn37_2", (96, 96, 3))
    assert _wrn_param_count(groups=4, width=2, blocks=4) == 5_934_576
    assert model.count_params() == 5_934_576
    assert model.feature_dim == 256
    # 4 groups of 4 blocks, channels 32/64/128/256; first group at stride 2: 96 -> 48 ... 6.
    assert [model.get_layer(f"g{g}b0_conv2").filters for g in range(4)] == [32, 64, 128, 256]
    assert model.get_layer("g3b3_add").output.shape[1:] == (6, 6, 256)
    assert model.get_layer("g0b0_conv1").strides == (2, 2)
    # The generalization keeps WRN-28-k as it was (1,469,936 and 23,364,080 before it).
    assert _wrn_param_count(groups=3, width=2, blocks=4) == 1_469_936
    assert build_backbone("wrn28_2", (32, 32, 3)).count_params() == 1_469_936
    assert _wrn_param_count(groups=3, width=8, blocks=4) == 23_364_080


def test_wide_resnet_bad_groups_and_first_stride():
    wrn = BACKBONES["wide_resnet"]
    with pytest.raises(
        ValueError, match=r"groups \(number of residual groups\) must be >= 1; got 0"
    ):
        wrn(input_shape=(32, 32, 3), groups=0)
    with pytest.raises(ValueError, match=r"groups .* must be an int; got 2.5"):
        wrn(input_shape=(32, 32, 3), groups=2.5)
    with pytest.raises(ValueError, match=r"first_stride .* must be one of \[1, 2\]; got 3"):
        wrn(input_shape=(32, 32, 3), first_stride=3)
    with pytest.raises(ValueError, match="too small"):
        build_backbone("wrn37_2", (16, 16, 3))


def test_convnet_layer_norm_uses_no_batch_statistics():
    """norm="layer" (CPC v2): an example's features do not depend on the rest of the batch,
    in training mode too."""
    import keras

    keras.utils.set_random_seed(0)
    model = build_backbone("convnet", (16, 16, 1), widths=(8, 16), norm="layer")
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    rng = np.random.RandomState(0)
    x = rng.rand(4, 16, 16, 1).astype("f4")
    other = np.concatenate([x[:1], rng.rand(3, 16, 16, 1).astype("f4")])
    a = model(x, training=True).numpy()[0]
    b = model(other, training=True).numpy()[0]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="norm must be"):
        build_backbone("convnet", (16, 16, 1), norm="instance")
