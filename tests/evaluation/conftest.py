"""A toy encoder trained for a few seconds on digits, shared by the evaluation tests."""

import contextlib
import dataclasses
from unittest import mock

import keras
import pytest
import tensorflow as tf

from tfless import evaluation
from tfless.backbones import build_backbone
from tfless.data import digits_arrays
from tfless.evaluation.finetuning import recompute_batch_norm
from tfless.methods import Supervised


@pytest.fixture(scope="session")
def digits():
    x, y = digits_arrays("train")
    xt, yt = digits_arrays("test")
    return x, y, xt, yt


@pytest.fixture(scope="session")
def trained_encoder(digits):
    x, y, _, _ = digits
    keras.utils.set_random_seed(0)
    encoder = build_backbone("convnet", (8, 8, 1), widths=(8, 16))
    method = Supervised(encoder, num_classes=10)
    method.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    ds = tf.data.Dataset.from_tensor_slices({"image": x, "label": y}).shuffle(2000, seed=0)
    method.fit(ds.repeat().batch(64), steps_per_epoch=80, epochs=1, verbose=0)
    return encoder


@pytest.fixture(scope="session")
def classifier(trained_encoder, digits):
    """A Supervised method on a copy of the trained encoder, trained 40 more steps."""
    x, y, _, _ = digits
    keras.utils.set_random_seed(0)
    encoder = keras.models.clone_model(trained_encoder)
    encoder.set_weights(trained_encoder.get_weights())
    method = Supervised(encoder, num_classes=10)
    method.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    ds = tf.data.Dataset.from_tensor_slices({"image": x, "label": y}).shuffle(2000, seed=0)
    method.fit(ds.repeat().batch(64), steps_per_epoch=40, epochs=1, verbose=0)
    # After 40 steps the batch-norm moving averages (momentum 0.99) still hold their
    # initial values; inference-mode accuracy needs the statistics of the data.
    recompute_batch_norm(encoder, x)
    return method


def _save_toy_export(path, encoder, head=None) -> str:
    spec = [tf.TensorSpec([None, 8, 8, 1], tf.float32, name="image")]
    module = tf.Module()
    module.encoder = encoder  # tracked, so that the signatures may use its variables

    @tf.function(input_signature=spec)
    def features(image):
        return {"feature_vector": encoder(image, training=False)}

    signatures = {"serving_default": features}
    if head is not None:
        module.head = head

        @tf.function(input_signature=spec)
        def logits(image):
            return {"logits": head(encoder(image, training=False), training=False)}

        signatures["logits"] = logits
    tf.saved_model.save(module, str(path), signatures=signatures)
    return str(path)


@pytest.fixture(scope="session")
def save_toy_export():
    """``save(path, encoder, head=None) -> path``: a SavedModel of 8x8x1 images with
    ``serving_default`` (``image`` -> ``feature_vector``) and, given a head, ``logits``."""
    return _save_toy_export


@dataclasses.dataclass
class Call:
    """One recorded call of ``evaluate_encoder``."""

    args: tuple
    kwargs: dict
    result: dict


@contextlib.contextmanager
def _record_evaluate_encoder():
    real = evaluation.evaluate_encoder
    calls = []

    def recording(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(Call(args, kwargs, result))
        return result

    with mock.patch.object(evaluation, "evaluate_encoder", recording):
        yield calls


@pytest.fixture
def record_evaluate_encoder():
    """A context manager that records every call of ``tfless.evaluation.evaluate_encoder``
    (callers import it from the package at call time, so the patch reaches them)."""
    return _record_evaluate_encoder
