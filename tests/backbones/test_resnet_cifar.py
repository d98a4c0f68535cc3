"""The CIFAR ResNet-32 of the SLA experiments: shape, size, option-A shortcuts, bad input."""

import numpy as np
import pytest

from tfless.backbones import BACKBONES, build_backbone
from tfless.backbones.resnet_cifar import ShortcutA, resnet_cifar


def test_resnet32_layout_and_parameter_count():
    model = build_backbone("resnet32", (32, 32, 3))
    assert model.feature_dim == 64 and model.output_shape == (None, 64)
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert len(convs) == 31  # stem + 3 stages x 5 blocks x 2; + the head makes 32 layers
    assert [c.filters for c in convs[:1] + convs[11:12] + convs[21:22]] == [16, 32, 64]
    # 0.46M weights (He et al. 2016, Table 6), none in the shortcuts.
    assert 460_000 < model.count_params() < 470_000
    assert not any(isinstance(layer, ShortcutA) and layer.weights for layer in model.layers)
    out = model(np.random.RandomState(0).rand(2, 32, 32, 3).astype("float32"))
    assert out.shape == (2, 64) and np.all(np.isfinite(out))
    assert "resnet32" in BACKBONES


def test_option_a_shortcut_subsamples_and_zero_pads():
    x = np.arange(2 * 4 * 4 * 2, dtype="float32").reshape(2, 4, 4, 2)
    out = np.asarray(ShortcutA(4, 2)(x))
    np.testing.assert_array_equal(out[..., :2], x[:, ::2, ::2, :])
    np.testing.assert_array_equal(out[..., 2:], 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"depth must be 6n \+ 2.*got 30"):
        resnet_cifar((32, 32, 3), depth=30)
    with pytest.raises(ValueError, match="non-decreasing widths"):
        resnet_cifar((32, 32, 3), depth=8, widths=(32, 16, 8))
