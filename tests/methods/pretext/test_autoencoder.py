import numpy as np
import pytest
import tensorflow as tf
from pretext_testing import digits_images, fit_one_mirrored_step, tiny_encoder, train

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
    x = digits_images(16)
    method = Autoencoder(tiny_encoder(16), noise="masking", decoder_width=16)
    assert METHODS["autoencoder"] is Autoencoder
    hist = train(method, x, steps=60, lr=5e-3)
    err = hist["reconstruction_error"]
    # Better than predicting the mean image, which a decoder learns first.
    mean_image_error = float(np.mean((x - x.mean(0)) ** 2))
    assert np.mean(err[-5:]) < 0.85 * mean_image_error, (err[-5:], mean_image_error)
    assert np.mean(hist["loss"][-5:]) < 0.5 * np.mean(hist["loss"][:5])


def test_autoencoder_mirrored_step():
    x = digits_images(16, n=64)
    logs = fit_one_mirrored_step(
        lambda: Autoencoder(tiny_encoder(16, widths=(8,)), noise="gaussian", decoder_width=8), x
    )
    assert np.isfinite(logs["loss"]) and logs["reconstruction_error"] > 0


def test_autoencoder_bad_input():
    with pytest.raises(ValueError, match="noise must be"):
        Autoencoder(tiny_encoder(16), noise="salt")
    with pytest.raises(ValueError, match="noise_level"):
        Autoencoder(tiny_encoder(16), noise="masking", noise_level=1.5)
    with pytest.raises(ValueError, match="loss must be"):
        Autoencoder(tiny_encoder(16), loss="l1")
