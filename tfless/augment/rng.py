"""Random draws of the augmentation ops: stateful by default, stateless inside :func:`seeded`.

The ops in :mod:`tfless.augment` and the methods' training steps draw their randomness
through this module. Called plainly (eager code, a test, a loss computed by hand) a draw
is an ordinary stateful ``tf.random`` op. Traced inside ``with seeded(seed):`` every draw
becomes a stateless op whose seed is ``seed`` folded with the draw's position in the traced
code, so the augmentation of a batch is a pure function of ``(seed, images)``. The training
pipelines seed each batch with ``(stream seed, global batch index)``: a resumed run that starts at
batch ``n`` then augments batch ``n`` exactly as an uninterrupted run did, and parallel
``Dataset.map`` calls cannot swap random numbers between batches. A method's
``train_step`` runs under ``seeded`` too, with a seed made of the run's seed, the
optimizer step and the replica (:meth:`tfless.methods.base.Method.step_seed`), so the
draws inside a step (MixUp pairs, VAT's start, CTAugment's choices) resume exactly too.
"""

from __future__ import annotations

import contextlib
import threading

import tensorflow as tf

_local = threading.local()


@contextlib.contextmanager
def seeded(seed):
    """Makes every draw of this module traced inside the block stateless, seeded by ``seed``.

    Args:
      seed: int ``[2]`` tensor (or pair), e.g. ``(stream seed, batch index)``.
    """
    previous = getattr(_local, "state", None)
    _local.state = [tf.cast(tf.convert_to_tensor(seed), tf.int64), 0]
    try:
        yield
    finally:
        _local.state = previous


def _next_seed():
    """The seed of the next stateless draw (None outside :func:`seeded`)."""
    state = getattr(_local, "state", None)
    if state is None:
        return None
    state[1] += 1
    return tf.random.experimental.stateless_fold_in(state[0], state[1])


def uniform(shape, minval=0, maxval=None, dtype=tf.float32) -> tf.Tensor:
    """``tf.random.uniform``; stateless inside :func:`seeded`."""
    seed = _next_seed()
    if seed is None:
        return tf.random.uniform(shape, minval, maxval, dtype=dtype)
    if maxval is None and dtype.is_floating:
        maxval = 1.0
    return tf.random.stateless_uniform(shape, seed, minval, maxval, dtype=dtype)


def normal(shape, mean=0.0, stddev=1.0, dtype=tf.float32) -> tf.Tensor:
    """``tf.random.normal``; stateless inside :func:`seeded`."""
    seed = _next_seed()
    if seed is None:
        return tf.random.normal(shape, mean, stddev, dtype=dtype)
    return tf.random.stateless_normal(shape, seed, mean, stddev, dtype=dtype)


def categorical(logits, num_samples, dtype=None) -> tf.Tensor:
    """``tf.random.categorical``; stateless inside :func:`seeded`."""
    seed = _next_seed()
    if seed is None:
        return tf.random.categorical(logits, num_samples, dtype=dtype)
    return tf.random.stateless_categorical(logits, num_samples, seed, dtype=dtype)


def shuffle(value) -> tf.Tensor:
    """``tf.random.shuffle`` (along the first axis); stateless inside :func:`seeded`."""
    seed = _next_seed()
    if seed is None:
        return tf.random.shuffle(value)
    return tf.random.experimental.stateless_shuffle(value, seed)


def gamma(shape, alpha, dtype=tf.float32) -> tf.Tensor:
    """``tf.random.gamma`` (unit rate); stateless inside :func:`seeded`."""
    seed = _next_seed()
    if seed is None:
        return tf.random.gamma(shape, alpha, dtype=dtype)
    return tf.random.stateless_gamma(shape, seed, alpha, dtype=dtype)


def beta(shape, alpha, dtype=tf.float32) -> tf.Tensor:
    """Beta(alpha, alpha) samples from two Gamma draws (TF has no Beta sampler)."""
    a = gamma(shape, alpha, dtype)
    b = gamma(shape, alpha, dtype)
    return a / tf.maximum(a + b, 1e-12)
