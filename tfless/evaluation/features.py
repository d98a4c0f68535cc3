"""Turning any encoder into a feature function, and caching its features.

The harness evaluates "any encoder": a :class:`tfless.methods.Method` (its
``feature_encoder()``), any ``keras.Model``, a ``keras.layers.TFSMLayer``, an object from
``tf.saved_model.load`` whose ``serving_default`` signature takes ``image`` and
returns ``feature_vector`` (the tfless export contract), the path of such an
export, or any callable ``images [B, H, W, C] -> features [B, D]``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from tfless.evaluation.settings import DEFAULTS


def keras_encoder(encoder) -> keras.Model | None:
    """The ``keras.Model`` whose outputs are the features of ``encoder``, or None.

    A method (any ``keras.Model`` with ``feature_encoder()``) gives that network (the
    one that is evaluated and exported; CPC's differs from its ``encoder``), another
    ``keras.Model`` with a ``keras.Model`` attribute ``encoder`` gives that, any other
    ``keras.Model`` itself. Exports, TFSMLayers and callables give None.
    """
    if not isinstance(encoder, keras.Model):
        return None
    if callable(getattr(encoder, "feature_encoder", None)):
        return encoder.feature_encoder()
    inner = getattr(encoder, "encoder", None)
    return inner if isinstance(inner, keras.Model) else encoder


def _from_saved_model(obj) -> Callable:
    sig = obj.signatures["serving_default"]
    outputs = sig.structured_outputs
    if "feature_vector" not in outputs:
        raise ValueError(
            f"SavedModel serving_default returns {sorted(outputs)}; expected 'feature_vector'."
        )

    def fn(images):
        return sig(image=tf.convert_to_tensor(images, tf.float32))["feature_vector"]

    return fn


def feature_fn(encoder) -> Callable:
    """Returns a callable ``images float32 [B, H, W, C] in [0, 1] -> features [B, D]``.

    Args:
      encoder: a tfless ``Method`` (see :func:`keras_encoder`), a ``keras.Model`` or layer
        (called with ``training=False``), a ``keras.layers.TFSMLayer`` (its output dict's
        ``feature_vector``), a loaded SavedModel with a ``serving_default`` signature, a
        path to a SavedModel export directory, or any callable ``images -> features``.

    Raises:
      ValueError: if ``encoder`` is none of the above, or a SavedModel lacks the
        ``serving_default`` -> ``feature_vector`` signature.
    """
    if isinstance(encoder, (str, os.PathLike)):
        path = os.fspath(encoder)
        if not os.path.isfile(os.path.join(path, "saved_model.pb")):
            raise ValueError(f"{path!r} is not a SavedModel directory (no saved_model.pb).")
        return _from_saved_model(tf.saved_model.load(path))
    model = keras_encoder(encoder)
    if model is not None:
        encoder = model
    if isinstance(encoder, keras.layers.TFSMLayer):

        def tfsm(images):
            out = encoder(tf.convert_to_tensor(images, tf.float32))
            return out["feature_vector"] if isinstance(out, dict) else out

        return tfsm
    if isinstance(encoder, keras.layers.Layer):

        def keras_fn(images):
            out = encoder(tf.convert_to_tensor(images, tf.float32), training=False)
            return out["feature_vector"] if isinstance(out, dict) else out

        return keras_fn
    if hasattr(encoder, "signatures") and "serving_default" in getattr(encoder, "signatures", {}):
        return _from_saved_model(encoder)
    if callable(encoder):
        return encoder
    raise ValueError(
        f"Cannot evaluate {type(encoder).__name__}: expected a Method, keras.Model, TFSMLayer, "
        "SavedModel (object or directory) or a callable images -> features."
    )


def extract_features(
    encoder, images: np.ndarray, batch_size: int = DEFAULTS.batch_size
) -> np.ndarray:
    """Features of ``images`` in batches, as a NumPy array.

    Args:
      encoder: anything :func:`feature_fn` accepts.
      images: float32 ``[N, H, W, C]`` in [0, 1].
      batch_size: images per forward pass.

    Returns:
      float32 ``[N, D]``.
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4:
        raise ValueError(f"images must be [N, H, W, C]; got shape {images.shape}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size!r}.")
    fn = feature_fn(encoder)
    chunks = []
    for start in range(0, len(images), batch_size):
        out = fn(images[start : start + batch_size])
        chunks.append(
            np.asarray(out, np.float32).reshape(len(images[start : start + batch_size]), -1)
        )
    if not chunks:
        raise ValueError("images is empty; expected at least one image.")
    return np.concatenate(chunks)
