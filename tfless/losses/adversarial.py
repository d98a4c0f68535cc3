"""Losses of generative augmentation: CycleGAN's and the Neural Rendering Model's.

Pure functions of tensors and keyword hyperparameters: no state, no variables. Images are
``[B, H, W, C]``; discriminator outputs are patch maps ``[B, h, w, 1]`` (any shape works);
every loss returns a float32 scalar.

References:
  Zhu, Park, Isola, Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent
  Adversarial Networks", ICCV 2017, arXiv 1703.10593 (least-squares GAN terms, L1 cycle and
  identity terms).
  Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017, arXiv 1611.04076.
  Ho, Nguyen, Patel, Anandkumar, Jordan, Baraniuk, "Neural Rendering Model: Joint Generation
  and Prediction for Semi-Supervised Learning", arXiv 1811.02657 (reconstruction, rendering
  path normalization, max-min cross-entropy).
"""

from __future__ import annotations

import keras
from keras import ops


def _f32(x):
    return ops.cast(x, "float32")


# ------------------------------------------------------------------------------ CycleGAN


def lsgan_discriminator_loss(real_output, fake_output):
    """``0.5 * (mean((D(real) - 1)^2) + mean(D(fake)^2))``: least-squares discriminator loss.

    The factor 0.5 is CycleGAN's ("we divide the objective by 2 while optimizing D").

    Args:
      real_output: discriminator output on real images, any shape.
      fake_output: discriminator output on generated images, any shape.
    """
    real = ops.mean(ops.square(_f32(real_output) - 1.0))
    fake = ops.mean(ops.square(_f32(fake_output)))
    return 0.5 * (real + fake)


def lsgan_generator_loss(fake_output):
    """``mean((D(G(x)) - 1)^2)``: the generator's least-squares loss (fool the discriminator)."""
    return ops.mean(ops.square(_f32(fake_output) - 1.0))


def cycle_loss(real, reconstructed):
    """``mean(|real - F(G(real))|)``: CycleGAN's L1 cycle-consistency term (unweighted)."""
    return ops.mean(ops.abs(_f32(real) - _f32(reconstructed)))


def identity_loss(real, same):
    """``mean(|y - G(y)|)``: CycleGAN's L1 identity term for a target-domain image (unweighted)."""
    return ops.mean(ops.abs(_f32(real) - _f32(same)))


# ------------------------------------------------------------------------------- NRM


def reconstruction_loss(images, rendered):
    """``mean((x - x_hat)^2)``: squared error of the rendering path's reconstruction.

    The paper names a reconstruction loss without fixing its form in the code that could be
    read; tfless uses the mean squared error over pixels (a Gaussian likelihood with fixed
    variance), so its scale does not depend on the image size.
    """
    return ops.mean(ops.square(_f32(images) - _f32(rendered)))


def rendering_path_normalization(biases, renders, path_renders):
    """Rendering path normalization: ``sum_l mean |b_l * mu_l - b_l * mu_pn_l|``.

    ``mu_l`` is the top-down rendering of an image at layer ``l`` (after the layer's ReLU
    state mask), ``mu_pn_l`` the rendering of the bias-only path (rendered from the all-ones
    class vector, gated by the ReLU states of a forward pass on a zero image), ``b_l`` the
    layer's bias. The mean is over every element of the layer (batch, space, channels);
    layers are summed, as in the authors' code.

    Args:
      biases: list of ``[C_l]`` biases.
      renders: list of ``[B, H_l, W_l, C_l]`` renderings of the images.
      path_renders: list of ``[1 or B, H_l, W_l, C_l]`` renderings of the bias-only path.
    """
    if not (len(biases) == len(renders) == len(path_renders)):
        raise ValueError(
            f"rendering_path_normalization needs one bias, rendering and path rendering per "
            f"layer; got {len(biases)}, {len(renders)} and {len(path_renders)}."
        )
    total = ops.zeros((), "float32")
    for b, mu, mu_pn in zip(biases, renders, path_renders):
        b = _f32(b)
        total = total + ops.mean(ops.abs(b * _f32(mu) - b * _f32(mu_pn)))
    return total


def max_min_cross_entropy(labels, max_logits, min_logits, min_weight: float = 0.5):
    """``(1 - w) * CE(max_logits, y) + w * CE(min_logits, y)``: the max-min cross-entropy.

    The max branch is the usual network (rectifiers and max-pooling pick the most likely
    rendering latents); the min branch shares every weight but picks the least likely ones
    (see :class:`tfless.methods.generative.NRM`). Both are trained to predict the label;
    ``min_weight`` 0.5 averages the two (tfless's choice: the weight is not given in the
    text that could be read).

    Args:
      labels: int ``[B]``.
      max_logits, min_logits: ``[B, K]``.
      min_weight: weight of the min branch, in [0, 1].
    """
    if not 0.0 <= float(min_weight) <= 1.0:
        raise ValueError(f"min_weight must be in [0, 1]; got {min_weight!r}.")
    ce = keras.losses.sparse_categorical_crossentropy
    ce_max = ops.mean(ce(labels, _f32(max_logits), from_logits=True))
    ce_min = ops.mean(ce(labels, _f32(min_logits), from_logits=True))
    return (1.0 - min_weight) * ce_max + min_weight * ce_min
