"""Font-rendered digits and the synthetic-to-real pair."""

import numpy as np
import pytest

from tfless.data import synthetic_digits
from tfless.data.synthetic_digits import check_same_classes, render_digits


def test_render_digits_is_balanced_seeded_and_varied():
    x, y = render_digits(40, size=16, seed=3)
    assert x.shape == (40, 16, 16, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert np.bincount(y, minlength=10).tolist() == [4] * 10
    x2, y2 = render_digits(40, size=16, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    # Two renderings of one digit differ (font, stroke and affine jitter).
    ones = x[y == 1]
    assert np.abs(ones[0] - ones[1]).mean() > 0.01
    with pytest.raises(ValueError, match="positive integer"):
        render_digits(0)
    with pytest.raises(ValueError, match="Unknown font styles"):
        render_digits(2, font_styles=("Comic",))


def test_digits_pair_keeps_few_real_labels(monkeypatch):
    # A stand-in for mnist5k (reading the real one costs seconds; tests/data covers it).
    rng = np.random.default_rng(0)
    fake = {
        s: (rng.uniform(size=(n, 28, 28, 1)).astype(np.float32), np.arange(n) % 10)
        for s, n in (("train", 100), ("test", 60))
    }
    monkeypatch.setattr(synthetic_digits, "mnist5k_arrays", lambda split: fake[split])
    pair = synthetic_digits.digits_pair(num_synthetic=20, labels_per_class=2, num_test=50)
    assert pair.real_labeled_images.shape == (20, 28, 28, 1)
    assert np.bincount(pair.real_labeled_labels).tolist() == [2] * 10
    kept = [
        np.flatnonzero((fake["train"][0] == img).all(axis=(1, 2, 3)))[0]
        for img in pair.real_labeled_images
    ]
    np.testing.assert_array_equal(fake["train"][1][kept], pair.real_labeled_labels)
    assert pair.real_images.shape == (100, 28, 28, 1)
    assert pair.test_images.shape == (50, 28, 28, 1)
    assert pair.synthetic_images.shape == (20, 28, 28, 1)


def test_class_mismatch_is_refused():
    with pytest.raises(ValueError, match=r"missing from the synthetic domain \[2\]"):
        check_same_classes([0, 1], [0, 1, 2])
