import numpy as np
import pytest
import tensorflow as tf

from tests.testing import digits_images, run_method_learns, run_mirrored_equivalence, tiny_encoder
from tfless.methods import METHODS
from tfless.methods.pretext import Autoencoder
from tfless.methods.pretext.autoencoder import corrupt


def test_corruptions():
    x = tf.fill([4, 10, 10, 2], 0.5)
    masked = corrupt(x, "masking", 0.25).numpy()
    zero = masked == 0
    assert np.array_equal(zero[..., 0], zero[..., 1])  # whole pixels are destroyed
    assert 0.1 < zero.mean() < 0.4
    noisy = corrupt(x, "gaussian", 0.1).numpy()
    assert 0.05 < noisy.std() < 0.15 and noisy.min() >= 0 and noisy.max() <= 1
    assert np.array_equal(corrupt(x, "none", 0.25), x)


def test_autoencoder_learns():
    # The denoising variant exercises every piece of the plain one plus the corruption.
    x = digits_images(16, n=512)
    method = Autoencoder(tiny_encoder((16, 16, 1), (16, 32)), noise="masking", decoder_width=16)
    assert METHODS["autoencoder"] is Autoencoder
    hist = run_method_learns(method, x, 60, lr=5e-3, seed=0, window=5)
    err = hist["reconstruction_error"]
    # Better than predicting the mean image, which a decoder learns first.
    mean_image_error = float(np.mean((x - x.mean(0)) ** 2))
    assert np.mean(err[-5:]) < 0.85 * mean_image_error, (err[-5:], mean_image_error)
    assert np.mean(hist["loss"][-5:]) < 0.5 * np.mean(hist["loss"][:5])


def test_autoencoder_two_replicas_train_as_one(mirrored_strategy):
    # The noise is drawn per image, the same on one replica or two (invariant_random).
    run_mirrored_equivalence(
        lambda: Autoencoder(tiny_encoder((16, 16, 1), (8,)), noise="gaussian", decoder_width=8),
        {"image": digits_images(16, n=8)},
        mirrored_strategy,
        invariant_random=True,
        keys=("loss", "reconstruction_error"),
    )


def test_autoencoder_bad_input():
    with pytest.raises(ValueError, match="noise must be"):
        Autoencoder(tiny_encoder((16, 16, 1), (16, 32)), noise="salt")
    with pytest.raises(ValueError, match="noise_level"):
        Autoencoder(tiny_encoder((16, 16, 1), (16, 32)), noise="masking", noise_level=1.5)
    with pytest.raises(ValueError, match="loss must be"):
        Autoencoder(tiny_encoder((16, 16, 1), (16, 32)), loss="l1")
