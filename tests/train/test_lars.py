"""LARS against a NumPy reference; BN and biases excluded; trains a tiny model."""

import keras
import numpy as np
import pytest

from tfless.train.lars import LARS


def _np_lars(w, g, v, lr, momentum, wd, eeta, adapt, nesterov=False):
    if adapt:
        g = g + wd * w
        wn, gn = np.linalg.norm(w), np.linalg.norm(g)
        lr = lr * (eeta * wn / gn if wn > 0 and gn > 0 else 1.0)
    v = momentum * v + lr * g
    upd = momentum * v + lr * g if nesterov else v
    return w - upd, v


@pytest.mark.parametrize("nesterov", [False, True])
def test_lars_matches_numpy_and_excludes_bias(nesterov):
    rng = np.random.RandomState(0)
    kernel = keras.Variable(rng.randn(3, 4).astype("f4"), name="kernel")
    bias = keras.Variable(rng.randn(4).astype("f4"), name="bias")
    opt = LARS(learning_rate=0.5, momentum=0.9, weight_decay=0.1, eeta=0.01, nesterov=nesterov)
    w, b = kernel.numpy(), bias.numpy()
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    for _ in range(3):
        gw, gb = rng.randn(3, 4).astype("f4"), rng.randn(4).astype("f4")
        opt.apply([gw, gb], [kernel, bias])
        w, vw = _np_lars(w, gw, vw, 0.5, 0.9, 0.1, 0.01, True, nesterov)
        b, vb = _np_lars(b, gb, vb, 0.5, 0.9, 0.1, 0.01, False, nesterov)
    np.testing.assert_allclose(kernel.numpy(), w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bias.numpy(), b, rtol=1e-5, atol=1e-6)


def test_lars_excludes_batch_norm_by_name_and_shape():
    layer = keras.layers.BatchNormalization()
    layer.build((None, 4))
    opt = LARS()
    opt.build(layer.trainable_variables)
    assert opt._adapt == [False, False] and opt._decay == [False, False]


def test_lars_trains_a_small_classifier():
    keras.utils.set_random_seed(0)
    rng = np.random.RandomState(1)
    x = rng.randn(256, 10).astype("f4")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    model = keras.Sequential(
        [keras.Input((10,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)]
    )
    model.compile(
        optimizer=LARS(learning_rate=5.0, eeta=0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=False,
    )
    hist = model.fit(x, y, batch_size=64, epochs=15, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert hist.history["accuracy"][-1] > 0.9


def test_lars_bad_arguments():
    with pytest.raises(ValueError, match="momentum"):
        LARS(momentum=1.0)
    with pytest.raises(ValueError, match="eeta"):
        LARS(eeta=0.0)
    with pytest.raises(ValueError, match="weight_decay"):
        LARS(weight_decay=-1.0)
