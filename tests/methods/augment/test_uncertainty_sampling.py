"""Uncertainty-based sampling: the training method."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless.augment import sampling
from tfless.backbones import build_backbone
from tfless.data import digits_arrays
from tfless.methods.augment import UncertaintySampling


def _digits(n=64, seed=0):
    x, y = digits_arrays("train")
    idx = np.random.RandomState(seed).choice(len(y), n, replace=False)
    return x[idx].astype(np.float32), y[idx].astype(np.int32)


def _encoder(widths=(8, 16)):
    enc = build_backbone("convnet", (8, 8, 1), widths=widths)
    # Batch-norm statistics must settle within the few dozen test steps.
    for layer in enc.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.8
    return enc


def test_method_loss_is_mean_of_top_l_copies():
    """The training loss equals a direct computation on the same sampled copies."""
    keras.utils.set_random_seed(0)
    x, y = _digits(8)
    model = UncertaintySampling(_encoder(), num_classes=10, num_samples=4, num_selected=2)
    copies = sampling.random_compositions(x, 4)
    model.augment = lambda images: copies
    loss = float(model.compute_loss(x={"image": x, "label": y}, training=False))
    logits = np.asarray(model.logits(copies, training=False), np.float64)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    per_copy = -logp[np.arange(32), np.tile(y, 4)].reshape(4, 8)
    expected = np.mean(np.sort(per_copy, axis=0)[-2:])
    assert loss == pytest.approx(expected, rel=1e-4)
    # Selecting the top copies gives a higher loss than the average copy.
    assert loss > per_copy.mean()


def test_method_learns_digits():
    keras.utils.set_random_seed(1)
    x, y = _digits(200)
    ds = tf.data.Dataset.from_tensor_slices({"image": x, "label": y})
    ds = ds.repeat().shuffle(200, seed=0).batch(32, drop_remainder=True)
    # Label-preserving ops: with the full RandAugment list at random magnitudes the
    # highest-loss copy of a digit is often a black (Posterize 0 bits) image.
    model = UncertaintySampling(
        _encoder(widths=(16, 32)),
        num_classes=10,
        num_samples=3,
        transforms=("Identity", "Rotate", "ShearX", "TranslateY"),
        magnitude=(0.0, 5.0),
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    hist = model.fit(ds, steps_per_epoch=15, epochs=4, verbose=0).history
    assert hist["xent"][-1] < 0.7 * hist["xent"][0]
    # The selected copies are the hardest ones.
    assert all(s >= a for s, a in zip(hist["xent"], hist["sample_xent"], strict=True))
    xt, yt = digits_arrays("test")
    acc = model.evaluate(
        tf.data.Dataset.from_tensor_slices({"image": xt, "label": yt}).batch(270),
        verbose=0,
        return_dict=True,
    )["accuracy"]
    assert acc > 0.4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_samples=2, num_selected=3), "must not exceed"),
        (dict(num_samples=0), "num_samples"),
        (dict(num_selected=0), "num_selected"),
        (dict(transforms=()), "empty"),
        (dict(transforms=("Rotate", "Spin")), "unknown augmentation op 'Spin'"),
        (dict(transforms="Rotate"), "list of op names"),
        (dict(magnitude=(0.0, 12.0)), "magnitude"),
        (dict(num_layers=0), "num_layers"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UncertaintySampling(_encoder(), num_classes=10, **kwargs)
