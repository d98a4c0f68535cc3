"""Tests of tfless.augment.mix: mixup, CutMix and Cutout."""

import numpy as np
import pytest
import tensorflow as tf

from tfless.augment import mix


def _data(batch=64, classes=5, size=8):
    rng = np.random.default_rng(0)
    # Each image is constant at its own value, so mixed pixels reveal the partner.
    values = rng.uniform(0, 1, batch).astype(np.float32)
    images = np.broadcast_to(values[:, None, None, None], (batch, size, size, 3)).copy()
    labels = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, batch)]
    return images, labels


def test_mixup_per_example_lambda_consistent_with_labels():
    images, labels = _data()
    out, y, lam = mix.mixup(images, labels, alpha=1.0, return_lambda=True)
    out, y, lam = out.numpy(), y.numpy(), lam.numpy()
    assert out.shape == images.shape and y.shape == labels.shape
    np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-5)
    assert len(np.unique(lam.round(6))) > 32 and lam.min() >= 0 and lam.max() <= 1
    # Each mixed pixel is lam * own value + (1 - lam) * the partner's value.
    partner_value = (out[:, 0, 0, 0] - lam * images[:, 0, 0, 0]) / np.maximum(1 - lam, 1e-6)
    ok = (1 - lam) < 1e-3
    ok |= np.any(np.abs(partner_value[:, None] - images[None, :, 0, 0, 0]) < 1e-3, axis=1)
    assert ok.all()
    # The label weight on the own class is at least lam.
    assert np.all((y * labels).sum(axis=1) >= lam - 1e-5)


def test_mixup_alpha_concentrates_lambda():
    images, labels = _data(batch=2000)
    _, _, lam = mix.mixup(images, labels, alpha=0.1, return_lambda=True)
    lam = lam.numpy()
    # Beta(0.1, 0.1) puts most mass near 0 and 1; Beta(1, 1) is uniform.
    assert np.mean((lam < 0.1) | (lam > 0.9)) > 0.6
    _, _, lam1 = mix.mixup(images, labels, alpha=1.0, return_lambda=True)
    assert abs(np.mean((lam1.numpy() < 0.1) | (lam1.numpy() > 0.9)) - 0.2) < 0.05


def test_cutmix_area_matches_label_weight():
    images, labels = _data(size=16)
    out, y, kept = mix.cutmix(images, labels, alpha=1.0, return_lambda=True)
    out, y, kept = out.numpy(), y.numpy(), kept.numpy()
    own = np.isclose(out[..., 0], images[:, :1, :1, 0]).mean(axis=(1, 2))
    # Pixels equal to the image's own value: the kept area (or all, if paired with itself).
    assert np.all(np.isclose(own, kept, atol=1e-6) | np.isclose(own, 1.0))
    np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-5)
    assert len(np.unique(kept.round(4))) > 10


def test_mix_in_tf_data_and_uint8():
    images, labels = _data()
    u8 = (images * 255).astype(np.uint8)
    ds = tf.data.Dataset.from_tensor_slices((u8, labels)).batch(16)
    ds = ds.map(lambda x, y: mix.cutmix(*mix.mixup(x, y, 0.4), 1.0))
    x, y = next(iter(ds))
    assert x.dtype == tf.uint8 and x.shape == (16, 8, 8, 3) and y.shape == (16, 5)
    cut = mix.cutout(u8, size=0.5).numpy()
    assert np.all((cut == 128).all(axis=-1).sum(axis=(1, 2)) >= 4)


def test_bad_inputs():
    images, labels = _data()
    with pytest.raises(ValueError, match="labels must be float"):
        mix.mixup(images, labels.argmax(1)[:, None].astype(np.int32))
    with pytest.raises(ValueError, match=r"shape \[B, K\]"):
        mix.cutmix(images, labels[:, 0])
    with pytest.raises(ValueError, match="alpha must be > 0"):
        mix.mixup(images, labels, alpha=0.0)
