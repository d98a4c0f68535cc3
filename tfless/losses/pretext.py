"""Losses of the pretext tasks: pure functions of tensors (``keras.ops``).

* :func:`pretext_cross_entropy`: mean softmax cross-entropy of a pretext
  classification (rotation, jigsaw permutation, context position).
* :func:`rebalanced_color_loss`, :func:`rebalancing_weights`,
  :func:`annealed_mean`: colorization as classification (Zhang, Isola & Efros 2016).
* :func:`reconstruction_loss`: autoencoders (Vincent et al. 2008; Masci et al. 2011).
"""

from __future__ import annotations

from keras import ops


def pretext_cross_entropy(labels, logits):
    """Mean softmax cross-entropy.

    Args:
      labels: int ``[N]`` in ``[0, K)``.
      logits: float ``[N, K]``.

    Returns:
      scalar ``mean_n -log softmax(logits_n)[labels_n]``.
    """
    logp = ops.log_softmax(logits, axis=-1)
    picked = ops.take_along_axis(logp, ops.expand_dims(ops.cast(labels, "int32"), -1), axis=-1)
    return -ops.mean(picked)


def rebalancing_weights(prior, lam: float = 0.5):
    """Class-rebalancing weights of Zhang et al. 2016 (Eq. 4).

    ``w ∝ ((1 - lam) * p + lam / Q) ** -1``, normalised so that ``sum_q p_q w_q = 1``.

    Args:
      prior: float ``[Q]`` empirical distribution of the colour bins (sums to 1; the
        paper smooths it with a Gaussian of sigma 5 in ab space first).
      lam: mixing weight of the uniform distribution (0.5 in the paper).

    Returns:
      float ``[Q]``.
    """
    prior = ops.convert_to_tensor(prior, "float32")
    prior = prior / ops.sum(prior)
    q = ops.cast(ops.shape(prior)[0], "float32")
    w = 1.0 / ((1.0 - lam) * prior + lam / q)
    return w / ops.sum(prior * w)


def rebalanced_color_loss(logits, targets, class_weights):
    """Rebalanced multinomial cross-entropy of colorization (Zhang et al. 2016, Eq. 2).

    ``L = mean_pixels v(Z) * -sum_q Z_q log softmax(logits)_q`` with
    ``v(Z) = class_weights[argmax_q Z_q]`` (the paper sums over pixels; the mean keeps
    the scale independent of the image size).

    Args:
      logits: float ``[B, h, w, Q]``.
      targets: float ``[B, h, w, Q]`` soft-encoded ground truth ``Z``.
      class_weights: float ``[Q]``.

    Returns:
      scalar.
    """
    logp = ops.log_softmax(logits, axis=-1)
    xent = -ops.sum(targets * logp, axis=-1)
    weight = ops.take(class_weights, ops.argmax(targets, axis=-1))
    return ops.mean(weight * xent)


def annealed_mean(logits, bins, temperature: float = 0.38):
    """Annealed-mean decoding of a colour distribution (Zhang et al. 2016, Eq. 5).

    ``H(Z) = sum_q f_T(Z)_q * bins_q`` with ``f_T(z) = exp(log z / T) / sum exp(log z / T)``,
    i.e. a softmax of ``logits / T``; ``T = 1`` is the mean, ``T -> 0`` the mode.

    Args:
      logits: float ``[..., Q]``.
      bins: float ``[Q, 2]`` ab bin centres.
      temperature: T (0.38 in the paper), > 0.

    Returns:
      float ``[..., 2]`` ab values.
    """
    probs = ops.softmax(logits / temperature, axis=-1)
    return ops.tensordot(probs, ops.convert_to_tensor(bins, "float32"), axes=1)


def reconstruction_loss(images, reconstruction, kind: str = "mse"):
    """Mean per-pixel reconstruction loss of an autoencoder.

    Args:
      images: float ``[B, H, W, C]`` targets in [0, 1].
      reconstruction: float ``[B, H, W, C]``; values in [0, 1] for ``mse``, logits for
        ``bce``.
      kind: ``"mse"`` (squared error) or ``"bce"`` (Bernoulli cross-entropy on logits,
        for images in [0, 1] as in Vincent et al. 2008).

    Returns:
      scalar.
    """
    if kind == "mse":
        return ops.mean(ops.square(images - reconstruction))
    if kind == "bce":
        # log(1 + e^x) - y x, written stably.
        x = reconstruction
        return ops.mean(ops.relu(x) - x * images + ops.log1p(ops.exp(-ops.abs(x))))
    raise ValueError(f"kind must be 'mse' or 'bce'; got {kind!r}.")
