"""Tests of tfless.augment.views: keys, shapes, ranges, randomness, tf.data, bad kwargs."""

import numpy as np
import pytest
import tensorflow as tf

from tfless.augment import views
from tfless.data.synthetic import shapes_arrays


def _batch(n=8):
    images, _ = shapes_arrays("train")
    return images[:n].astype(np.float32)


def _check_image(x, like):
    x = np.asarray(x)
    assert x.dtype == np.float32 and x.shape == like.shape
    assert x.min() >= 0.0 and x.max() <= 1.0


def test_registry_and_keys():
    images = _batch()
    assert set(views.VIEWS) >= {"identity", "flip_crop", "weak_strong", "simclr", "multi_weak"}
    out = views.VIEWS["identity"]()(images)
    assert list(out) == ["image"]
    np.testing.assert_array_equal(out["image"], images)
    out = views.VIEWS["flip_crop"]()(images)
    assert list(out) == ["image"]
    _check_image(out["image"], images)
    out = views.VIEWS["weak_strong"]()(images)
    assert set(out) == {"image_weak", "image_strong"}
    for key in out:
        _check_image(out[key], images)
    out = views.VIEWS["simclr"](strength=0.5)(images)
    assert list(out) == ["views"] and len(out["views"]) == 2
    for view in out["views"]:
        _check_image(view, images)
    out = views.VIEWS["multi_weak"](k=3)(images)
    assert len(out["views"]) == 3


def test_flip_crop_options():
    images = _batch(16)
    same = views.VIEWS["flip_crop"](flip=False, pad_fraction=0.0)(images)["image"]
    np.testing.assert_array_equal(same, images)
    shifted = views.VIEWS["flip_crop"](flip=False)(images)["image"].numpy()
    moved = [not np.array_equal(a, b) for a, b in zip(shifted, images, strict=True)]
    assert 0 < sum(moved) <= 16
    # Without flips, the image content is never mirrored: compare with a numpy window.
    pad = 2  # 12.5% of 16 px
    padded = np.pad(images, [(0, 0), (pad, pad), (pad, pad), (0, 0)], mode="reflect")
    for i in range(16):
        assert any(
            np.array_equal(padded[i, dy : dy + 16, dx : dx + 16], shifted[i])
            for dy in range(2 * pad + 1)
            for dx in range(2 * pad + 1)
        )


def test_weak_strong_differ_and_vary_per_image():
    images = np.repeat(_batch(1), 8, axis=0)
    out = views.VIEWS["weak_strong"]()(images)
    strong = out["image_strong"].numpy()
    assert not np.allclose(strong, out["image_weak"].numpy())
    assert len({s.tobytes() for s in strong}) == 8
    # Cutout is always applied: every strong image has a grey square.
    grey = np.all(np.isclose(strong, 0.5, atol=1 / 255), axis=-1).sum(axis=(1, 2))
    assert np.all(grey >= 16)


def test_simclr_views_independent_and_sized():
    images = _batch(8)
    out = views.VIEWS["simclr"](size=(12, 12), blur=True)(images)
    v1, v2 = (v.numpy() for v in out["views"])
    assert v1.shape == (8, 12, 12, 3)
    assert not np.allclose(v1, v2)


def test_views_inside_tf_data():
    images = _batch(8)
    for name, kwargs in [
        ("flip_crop", {}),
        ("weak_strong", {}),
        ("simclr", {"strength": 0.5}),
        ("multi_weak", {"k": 2}),
    ]:
        fn = views.VIEWS[name](**kwargs)
        ds = tf.data.Dataset.from_tensor_slices(images).batch(4).map(fn, num_parallel_calls=2)
        batches = list(ds.as_numpy_iterator())
        assert len(batches) == 2
        first = batches[0]
        assert set(first) == set(fn(images[:4]))
        if "views" in first:
            # Separate [B, H, W, C] tensors, not one stacked [V, B, H, W, C] tensor (which
            # tf.distribute would split along the view axis).
            assert isinstance(first["views"], tuple) and len(first["views"]) == 2
            assert all(v.shape == (4, 16, 16, 3) for v in first["views"])


def test_unknown_kwargs_and_names():
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['flp'\]"):
        views.VIEWS["flip_crop"](flp=False)
    with pytest.raises(ValueError, match="unknown view 'fixmatch'"):
        views.build_view("fixmatch")
    with pytest.raises(ValueError, match="pad_fraction must be in"):
        views.VIEWS["flip_crop"](pad_fraction=1.5)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        views.VIEWS["multi_weak"](k=0)
    with pytest.raises(ValueError, match="rank 4"):
        views.VIEWS["flip_crop"]()(np.zeros((8, 8, 3), np.float32))
