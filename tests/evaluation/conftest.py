"""A toy encoder trained for a few seconds on digits, shared by the evaluation tests."""

import keras
import pytest
import tensorflow as tf

from tfless.backbones import build_backbone
from tfless.data import digits_arrays
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
