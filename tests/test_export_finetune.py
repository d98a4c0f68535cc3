"""Fine-tuning an export the Keras way: EncoderLayer(trainable=True) with Adam and SGD.

The encoder reproduces what makes a trained export hard to fine-tune through its
inference path: a small first-layer kernel (trained networks end with small kernels
under batch norm, which does not care about their scale) gives a small moving variance,
and the inference path multiplies that layer's gradients by gamma / sqrt(variance).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import tiny_encoder
from tfless import export
from tfless.data import digits_arrays
from tfless.evaluation import finetuning

SHAPE = (8, 8, 1)


@pytest.fixture(scope="module")
def digits():
    x, y = digits_arrays("train")
    return (x[:768], y[:768]), (x[768:], y[768:])


@pytest.fixture(scope="module")
def export_dir(digits, tmp_path_factory):
    encoder = tiny_encoder(SHAPE, widths=(16, 32), seed=0, bn_momentum=0.0)
    conv0 = encoder.get_layer("conv0")
    conv0.kernel.assign(conv0.kernel * 0.05)  # the function is unchanged in training mode
    encoder(digits[0][0], training=True)  # momentum 0: moving statistics = the data's
    for layer in encoder.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    root = str(tmp_path_factory.mktemp("ft"))
    return export.export_encoder(encoder, root, "ft", include_uint8=False, verify=False).path


def _accuracy(path, digits, trainable, optimizer, epochs=6):
    (x, y), (xt, yt) = digits
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input(SHAPE), export.EncoderLayer(path, trainable=trainable), keras.layers.Dense(10)]
    )
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    assert np.all(np.isfinite(history.history["loss"])), history.history["loss"]
    return float(np.mean(np.argmax(model.predict(xt, verbose=0), -1) == yt))


def test_fine_tuning_beats_the_frozen_probe_with_adam_and_sgd(export_dir, digits):
    # Through the inference path, SGD(0.05) ends in NaN and Adam refuses the weight names.
    frozen = _accuracy(export_dir, digits, False, keras.optimizers.Adam(1e-2))
    adam = _accuracy(export_dir, digits, True, keras.optimizers.Adam(1e-3))
    sgd = _accuracy(export_dir, digits, True, keras.optimizers.SGD(0.05))
    assert adam >= frozen and sgd >= frozen, (frozen, adam, sgd)


def test_training_call_uses_batch_statistics_and_updates_moving_ones(export_dir, digits):
    layer = export.EncoderLayer(export_dir, trainable=True)
    assert layer.call_training_endpoint == export.TRAINING_ENDPOINT
    assert layer.metadata["training_endpoint"] == export.TRAINING_ENDPOINT
    assert not any(":" in w.name for w in layer.weights)
    x = tf.constant(digits[1][0][:64])
    mean = next(w for w in layer.non_trainable_weights if w.name == "bn0_moving_mean")
    before = mean.numpy().copy()
    inference = layer(x, training=False).numpy()
    np.testing.assert_array_equal(mean.numpy(), before)
    training = layer(x, training=True).numpy()
    assert not np.allclose(training, inference, atol=1e-3)
    assert not np.allclose(mean.numpy(), before)
    # The signatures TF Serving exposes do not include it.
    assert export.TRAINING_ENDPOINT not in layer._reloaded_obj.signatures


def test_precise_bn_reaches_inside_the_export(export_dir, digits):
    layer = keras.layers.TFSMLayer(
        export_dir,
        call_endpoint="serving_default",
        call_training_endpoint=export.TRAINING_ENDPOINT,
        trainable=True,
    )
    x = digits[1][0][:256]
    assert finetuning.recompute_batch_norm(layer, x) == 2
    mean = next(w for w in layer.non_trainable_weights if "bn0_moving_mean" in w.name)
    conv0 = keras.layers.Conv2D(16, 3, padding="same", use_bias=False)
    conv0.build((None, *SHAPE))
    kernel = next(w for w in layer.trainable_weights if "conv0_kernel" in w.name)
    conv0.kernel.assign(kernel)
    want = np.mean(conv0(x).numpy(), axis=(0, 1, 2))
    np.testing.assert_allclose(mean.numpy(), want, rtol=1e-3, atol=1e-6)
