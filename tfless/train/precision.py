"""Mixed precision: ``train.precision`` is ``float32``, ``mixed_bfloat16`` or ``mixed_float16``.

What runs in the low precision, and what stays in float32 (tfless's choice, following the
Keras mixed-precision guide and "Mixed Precision Training", Micikevicius et al. 2018,
arXiv 1710.03740):

- The **backbone** is built under the Keras dtype policy, so its convolutions and dense
  layers compute in bfloat16 / float16 while every variable stays float32. Batch
  normalization keeps float32 moving statistics (Keras computes its moments in float32).
- The backbone's ``features`` output is float32 (:func:`float32_features`), so everything
  the method builds on top of it is float32: heads and projection MLPs, softmax /
  log-softmax and cross-entropies, contrastive similarity logits and temperatures, the
  MoCo / PIRL queues and memory banks, EMA teachers' targets, k-means and
  label-propagation maths, VAT's perturbation norm. Methods are built outside the policy,
  so their own layers and variables are float32 whatever they compute.
- ``mixed_float16`` wraps the optimizer in Keras' ``LossScaleOptimizer`` (dynamic loss
  scaling); every tfless ``train_step`` scales its loss with ``optimizer.scale_loss``.
  bfloat16 has float32's exponent range and needs no loss scaling.
- Exports keep the float32 contract at the signature: ``image`` float32 in,
  ``feature_vector`` float32 out.

The policy is set only while the backbone is built and restored afterwards, so a run does
not change the process-wide policy of the caller.
"""

from __future__ import annotations

import contextlib

import keras

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def check_precision(precision) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`; else ``ValueError`` naming it."""
    name = "float32" if precision is None else str(precision)
    if name not in PRECISIONS:
        raise ValueError(
            f"train.precision={precision!r} is not a precision tfless knows; expected one of "
            f"{list(PRECISIONS)}."
        )
    return name


@contextlib.contextmanager
def dtype_policy(precision: str):
    """Sets the Keras global dtype policy to ``precision`` inside the block, then restores it."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(check_precision(precision))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def float32_features(encoder: keras.Model) -> keras.Model:
    """``encoder`` with a float32 output: itself when it already returns float32.

    tfless backbones end in a float32 ``features`` layer; an encoder of another origin
    whose output is bfloat16 / float16 is wrapped with a cast, keeping ``feature_dim``.
    """
    if keras.backend.standardize_dtype(encoder.output.dtype) == "float32":
        return encoder
    inputs = keras.Input(shape=encoder.input.shape[1:], name="image")
    cast = keras.layers.Activation("linear", dtype="float32", name="features")
    wrapped = keras.Model(inputs, cast(encoder(inputs)), name=encoder.name)
    wrapped.feature_dim = getattr(encoder, "feature_dim", int(encoder.output.shape[-1]))
    return wrapped


def loss_scaled(optimizer: keras.optimizers.Optimizer, precision: str):
    """``optimizer`` wrapped in ``LossScaleOptimizer`` for ``mixed_float16``; else itself."""
    if check_precision(precision) == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def base_optimizer(optimizer):
    """The optimizer doing the updates: the inner one of a ``LossScaleOptimizer``."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def uses_ema(optimizer) -> bool:
    """True when ``optimizer`` (or the one a ``LossScaleOptimizer`` wraps) keeps an EMA."""
    return bool(getattr(base_optimizer(optimizer), "use_ema", False))
