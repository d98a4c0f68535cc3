"""BiT ResNetV2 (GroupNorm + weight standardization) and its .npz weight files."""

import importlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless.backbones import BACKBONES, build_backbone

# The module (``tfless.backbones.resnet_v2_gn`` the attribute is the builder function).
R = importlib.import_module("tfless.backbones.resnet_v2_gn")


def _np_standardize(w, eps=1e-10):
    w = w.astype(np.float64)
    mean = w.mean(axis=(0, 1, 2), keepdims=True)
    var = ((w - mean) ** 2).mean(axis=(0, 1, 2), keepdims=True)
    return (w - mean) / np.sqrt(var + eps)


def test_weight_standardization_matches_its_definition():
    rng = np.random.default_rng(0)
    w = (rng.normal(size=(3, 3, 4, 5)) * 0.3 + 0.7).astype(np.float32)
    ws = np.asarray(R.standardize_kernel(w))
    np.testing.assert_allclose(ws, _np_standardize(w), rtol=1e-4, atol=1e-5)
    # Each output filter: mean 0 and variance 1 over (kh, kw, in).
    np.testing.assert_allclose(ws.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(ws.var(axis=(0, 1, 2)), 1, rtol=1e-4)
    layer = R.StandardizedConv2D(5, 3, padding="same", use_bias=False)
    x = rng.normal(size=(2, 6, 6, 4)).astype(np.float32)
    layer.build(x.shape)
    layer.kernel.assign(w)
    ref = tf.nn.conv2d(x, _np_standardize(w).astype(np.float32), 1, "SAME").numpy()
    np.testing.assert_allclose(np.asarray(layer(x)), ref, rtol=1e-4, atol=1e-4)


def test_r50x1_has_bits_parameter_count_and_names():
    model = build_backbone("bit_r50x1", (64, 64, 3))
    # BiT-M-R50x1 without its 21k-class head: 23,500,352 weights, 2048-d features.
    assert model.count_params() == 23_500_352 and model.feature_dim == 2048
    names = R.bit_variable_names(model)
    assert len(names) == len(model.weights) == 151
    assert names["resnet/block4/unit03/c/standardized_conv2d/kernel"].shape == (1, 1, 512, 2048)
    assert names["resnet/block2/unit01/a/proj/standardized_conv2d/kernel"].shape == (1, 1, 256, 512)
    assert not any(isinstance(v, keras.layers.BatchNormalization) for v in model.layers)
    assert {f"bit_{a}" for a in R.BIT_ARCHITECTURES} | {"bit_tiny"} <= set(BACKBONES)


def _tiny(seed, **kwargs):
    keras.utils.set_random_seed(seed)
    return build_backbone("bit_tiny", (8, 8, 1), **kwargs)


def _head(model, seed, k=3):
    keras.utils.set_random_seed(seed)
    head = keras.layers.Dense(k)
    head.build((None, model.feature_dim))
    return head


def test_npz_round_trip_restores_the_function(tmp_path):
    a, b = _tiny(0), _tiny(1)
    ha, hb = _head(a, 0), _head(b, 1)
    # GroupNorm starts at gamma 1 / beta 0 in both: perturb so the copy is really checked.
    for v in a.weights:
        v.assign(v + 0.05 * np.random.default_rng(2).normal(size=v.shape).astype(np.float32))
    path = str(tmp_path / "tiny.npz")
    R.save_bit_npz(a, path, head=ha)
    stored = np.load(path)
    assert stored["resnet/head/conv2d/kernel"].shape == (1, 1, 128, 3)
    x = np.random.default_rng(3).random((4, 8, 8, 1)).astype(np.float32)
    assert not np.allclose(a(x), b(x))
    assert R.load_bit_npz(b, path, head=hb) == []
    np.testing.assert_allclose(np.asarray(b(x)), np.asarray(a(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(hb.kernel), np.asarray(ha.kernel))
    # Without a head the head arrays are reported unused.
    assert R.load_bit_npz(_tiny(4), path) == [
        "resnet/head/conv2d/bias",
        "resnet/head/conv2d/kernel",
    ]


def test_npz_mismatches_name_the_weight(tmp_path):
    path = str(tmp_path / "tiny.npz")
    R.save_bit_npz(_tiny(0), path)
    wide = _tiny(1, width=2)
    before = [np.asarray(v).copy() for v in wide.weights]
    with pytest.raises(
        ValueError,
        match=r"'resnet/root_block/standardized_conv2d/kernel' has "
        r"shape \(3, 3, 1, 8\) in the file but \(3, 3, 1, 16\)",
    ):
        R.load_bit_npz(wide, path)
    for v, old in zip(wide.weights, before):  # nothing was assigned
        np.testing.assert_array_equal(np.asarray(v), old)
    deeper = _tiny(1, blocks=(1, 1, 2))
    with pytest.raises(ValueError, match="missing from the file.*block3/unit02"):
        R.load_bit_npz(deeper, path)
    shallow = _tiny(1, blocks=(1, 1))
    with pytest.raises(ValueError, match="has no place for.*block3"):
        R.load_bit_npz(shallow, path)
    extra = str(tmp_path / "extra.npz")
    np.savez(extra, **dict(np.load(path)), **{"resnet/other/kernel": np.zeros(2)})
    with pytest.raises(ValueError, match="resnet/other/kernel"):
        R.load_bit_npz(_tiny(2), extra)
    assert R.load_bit_npz(_tiny(2), extra, strict=False) == ["resnet/other/kernel"]


def test_bad_architectures_are_refused():
    with pytest.raises(ValueError, match="depth must be one of \\[50, 101, 152\\]; got 34"):
        R.resnet_v2_gn((32, 32, 3), depth=34)
    with pytest.raises(ValueError, match="root width .* = 24 must be a multiple of groups=32"):
        R.resnet_v2_gn((32, 32, 3), base_width=24)
