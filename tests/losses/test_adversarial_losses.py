"""CycleGAN's and the Neural Rendering Model's losses against hand-written NumPy."""

import numpy as np
import pytest

from tfless.losses import adversarial as A


def _rng():
    return np.random.default_rng(0)


def test_lsgan_terms_match_numpy():
    rng = _rng()
    real, fake = rng.normal(size=(3, 4, 4, 1)), rng.normal(size=(3, 4, 4, 1))
    real, fake = real.astype(np.float32), fake.astype(np.float32)
    d_ref = 0.5 * (np.mean((real - 1) ** 2) + np.mean(fake**2))
    g_ref = np.mean((fake - 1) ** 2)
    np.testing.assert_allclose(float(A.lsgan_discriminator_loss(real, fake)), d_ref, rtol=1e-5)
    np.testing.assert_allclose(float(A.lsgan_generator_loss(fake)), g_ref, rtol=1e-5)
    # A perfect discriminator (1 on real, 0 on fake) has zero loss; a fooled one does not.
    assert float(A.lsgan_discriminator_loss(np.ones(4), np.zeros(4))) == 0.0
    assert float(A.lsgan_generator_loss(np.zeros(4))) == 1.0


def test_cycle_and_identity_are_l1_means():
    rng = _rng()
    x, y = rng.uniform(size=(2, 5, 5, 3)), rng.uniform(size=(2, 5, 5, 3))
    x, y = x.astype(np.float32), y.astype(np.float32)
    np.testing.assert_allclose(float(A.cycle_loss(x, y)), np.mean(np.abs(x - y)), rtol=1e-5)
    np.testing.assert_allclose(float(A.identity_loss(x, y)), np.mean(np.abs(x - y)), rtol=1e-5)
    assert float(A.cycle_loss(x, x)) == 0.0


def test_reconstruction_is_the_pixel_mse():
    rng = _rng()
    x, r = rng.uniform(size=(2, 4, 4, 1)), rng.uniform(size=(2, 4, 4, 1))
    np.testing.assert_allclose(
        float(A.reconstruction_loss(x.astype(np.float32), r.astype(np.float32))),
        np.mean((x - r) ** 2),
        rtol=1e-5,
    )


def test_rendering_path_normalization_equals_its_definition():
    rng = _rng()
    biases = [rng.normal(size=(3,)), rng.normal(size=(2,))]
    renders = [rng.normal(size=(2, 4, 4, 3)), rng.normal(size=(2, 2, 2, 2))]
    paths = [rng.normal(size=(1, 4, 4, 3)), rng.normal(size=(1, 2, 2, 2))]
    f32 = [[np.float32(a) for a in group] for group in (biases, renders, paths)]
    ref = sum(np.mean(np.abs(b * m - b * p)) for b, m, p in zip(biases, renders, paths))
    np.testing.assert_allclose(float(A.rendering_path_normalization(*f32)), ref, rtol=1e-5)
    # Renderings equal to the bias-only path cost nothing.
    assert float(A.rendering_path_normalization(biases[:1], paths[:1], paths[:1])) == 0.0
    with pytest.raises(ValueError, match="one bias, rendering and path rendering per layer"):
        A.rendering_path_normalization(biases, renders, paths[:1])


def test_max_min_cross_entropy_mixes_both_branches():
    rng = _rng()
    labels = np.array([0, 2, 1])
    zmax, zmin = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))

    def ce(z):
        z = z - z.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        return -np.mean(logp[np.arange(3), labels])

    for w in (0.0, 0.5, 1.0):
        got = A.max_min_cross_entropy(labels, np.float32(zmax), np.float32(zmin), min_weight=w)
        np.testing.assert_allclose(float(got), (1 - w) * ce(zmax) + w * ce(zmin), rtol=1e-5)
    with pytest.raises(ValueError, match=r"min_weight must be in \[0, 1\]"):
        A.max_min_cross_entropy(labels, zmax, zmin, min_weight=1.5)
