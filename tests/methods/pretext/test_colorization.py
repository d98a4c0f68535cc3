import keras
import numpy as np
import pytest

from tests.testing import (
    digits_images,
    replica_values,
    run_method_learns,
    run_mirrored_equivalence,
    tiny_encoder,
)
from tfless.methods import METHODS
from tfless.methods.pretext import Colorization
from tfless.methods.pretext.ops import ab_gamut_bins


def coloured_digits(n=512, split="train"):
    """Digits whose colour is a function of lightness: dark blue ink on light orange paper."""
    ink = digits_images(16, split=split, n=n)
    paper, pen = np.array([1.0, 0.8, 0.5]), np.array([0.1, 0.1, 0.6])
    return (paper * (1 - ink) + pen * ink).astype(np.float32)


def test_colorization_learns():
    x = coloured_digits()
    method = Colorization(tiny_encoder((16, 16, 3), (16, 32)), output_stride=4, decoder_width=16)
    assert METHODS["colorization"] is Colorization
    hist = run_method_learns(method, x, 40, seed=0, window=5)
    assert np.mean(hist["loss"][-5:]) < 0.6 * np.mean(hist["loss"][:5]), hist["loss"]
    assert np.mean(hist["pretext_accuracy"][-5:]) > 0.3  # chance 1/Q ~ 0.004
    assert np.mean(hist["ab_error"][-5:]) < 0.5 * np.mean(hist["ab_error"][:5]), hist["ab_error"]
    # The running prior saw every training pixel and peaks at the paper colour.
    counts = np.asarray(method.prior_counts)
    assert counts.sum() > 0
    paper_ab = np.array([14.0, 39.0])  # Lab of (1.0, 0.8, 0.5) ~ (85, 14, 39)
    peak = ab_gamut_bins()[np.argmax(counts)]
    assert np.abs(peak - paper_ab).max() <= 10, peak


def test_encoder_sees_lightness_only_and_exports_like_any_backbone():
    method = Colorization(tiny_encoder((16, 16, 3), (16, 32)), decoder_width=8)
    x = coloured_digits(4)
    seen = np.asarray(method.lightness_input(x))
    assert seen.shape == (4, 16, 16, 3) and 0 <= seen.min() and seen.max() <= 1
    np.testing.assert_allclose(seen[..., 0], seen[..., 2])
    assert method.encoder(x).shape == (4, 32)
    assert method.predict_ab(x).shape == (4, 4, 4, 2)


def test_fixed_prior():
    x = coloured_digits(64)
    prior = Colorization.estimate_prior(x)
    assert prior.shape == (len(ab_gamut_bins()),) and abs(prior.sum() - 1) < 1e-5
    method = Colorization(tiny_encoder((16, 16, 3), (16, 32)), class_prior=prior, decoder_width=8)
    w = np.asarray(method.class_weights())
    np.testing.assert_allclose((prior * w).sum(), 1.0, rtol=1e-4)


def test_colorization_two_replicas_train_as_one(mirrored_strategy):
    one, two, _, _ = run_mirrored_equivalence(
        lambda: Colorization(tiny_encoder((16, 16, 3), (8,)), decoder_width=8),
        {"image": coloured_digits(8)},
        mirrored_strategy,
        keys=("loss", "pretext_accuracy", "ab_error"),
    )
    # The running colour prior counts every pixel of the global batch on each replica.
    counts = replica_values(two.prior_counts)
    assert len(counts) == 2 and counts[0].sum() > 0
    np.testing.assert_array_equal(counts[0], counts[1])
    np.testing.assert_allclose(counts[0], replica_values(one.prior_counts)[0], rtol=1e-5)


def test_colorization_bad_input():
    with pytest.raises(ValueError, match="output_stride"):
        Colorization(tiny_encoder((16, 16, 3), (16, 32)), output_stride=3)
    with pytest.raises(ValueError, match="temperature"):
        Colorization(tiny_encoder((16, 16, 3), (16, 32)), temperature=0.0)
    with pytest.raises(ValueError, match="class_prior"):
        Colorization(tiny_encoder((16, 16, 3), (16, 32)), class_prior=np.ones(5))
    with pytest.raises(ValueError, match="'features'"):
        Colorization(keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Flatten()]))
    method = Colorization(tiny_encoder((16, 16, 1), (16, 32)), decoder_width=8)
    with pytest.raises(ValueError, match="RGB"):
        method.compute_loss(x={"image": np.zeros([2, 16, 16, 2], np.float32)})
    # Grayscale is gray RGB: the degenerate a = b = 0 target, but it runs.
    assert np.isfinite(method.compute_loss(x={"image": np.zeros([2, 16, 16, 1], np.float32)}))
