import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import replica_values
from tfless.augment.ctaugment import CTAugment
from tfless.methods.semi import ReMixMatch
from tfless.methods.semi.remixmatch import rotate_batch

# A few cheap ops keep the test fast; the default CTAugment has the paper's 15.
SMALL_OPS = ("Identity", "Rotate", "Brightness", "TranslateX", "Solarize")


def test_remixmatch_learns(semi):
    keras.utils.set_random_seed(0)
    model = ReMixMatch(
        semi.tiny_encoder(),
        num_classes=10,
        num_strong=2,
        rampup_steps=300,
        ctaugment=CTAugment(ops=SMALL_OPS, cutout=False),
    )
    ds, _ = semi.make_semi_dataset(semi.views_weak_strong, batch=16, mu=1)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    hist = model.fit(ds, steps_per_epoch=25, epochs=3, verbose=0).history
    assert hist["labeled_loss"][-1] < hist["labeled_loss"][0] - 0.1
    assert hist["rotation_loss"][-1] < np.log(4.0)  # better than guessing the rotation
    assert hist["probe_accuracy"][-1] > hist["probe_accuracy"][0]
    # CTAugment has learned: bin weights moved from 1 towards the probes' proximity.
    rates = model.ctaugment.rates.numpy()
    assert rates.max() < 1.0 and rates.min() > 0.0
    # The class marginals are probability vectors.
    np.testing.assert_allclose(model.p_model.numpy().sum(), 1.0, rtol=1e-4)
    np.testing.assert_allclose(model.p_data.numpy().sum(), 1.0, rtol=1e-4)
    acc = model.evaluate(semi.digits_test_dataset(), verbose=0, return_dict=True)["accuracy"]
    assert acc > 0.25  # chance is 0.1; ReMixMatch is slow to start on 60 steps


def test_rotate_batch_matches_rot90():
    x = tf.reshape(tf.range(2 * 3 * 3, dtype=tf.float32), [2, 3, 3, 1])
    out = rotate_batch(x, tf.constant([1, 3]))
    np.testing.assert_array_equal(out[0], np.rot90(x[0].numpy(), 1))
    np.testing.assert_array_equal(out[1], np.rot90(x[1].numpy(), 3))


def test_remixmatch_guess_is_aligned_then_sharpened(semi):
    model = ReMixMatch(semi.tiny_encoder(), num_classes=4, temperature=0.5)
    model.p_model.assign(np.array([0.4, 0.3, 0.2, 0.1], np.float32))
    model.p_data.assign(np.full(4, 0.25, np.float32))
    p = np.array([[0.1, 0.2, 0.3, 0.4]], np.float32)
    aligned = p * 0.25 / np.array([0.4, 0.3, 0.2, 0.1])
    aligned /= aligned.sum()
    ref = aligned**2 / (aligned**2).sum()
    np.testing.assert_allclose(model.guess_labels(p), ref, rtol=1e-5)


def test_remixmatch_bad_input(semi):
    enc = semi.tiny_encoder()
    with pytest.raises(ValueError, match="num_strong \\(K\\) must be >= 1; got 0"):
        ReMixMatch(enc, num_classes=10, num_strong=0)
    with pytest.raises(ValueError, match="lambda_r must be >= 0"):
        ReMixMatch(enc, num_classes=10, lambda_r=-1.0)


def test_remixmatch_mirrored_one_step(semi, mirrored_strategy):
    # MixUp pairs images within each replica (see the MixMatch test): replica consistency.
    with mirrored_strategy.scope():
        model = ReMixMatch(
            semi.tiny_encoder(),
            num_classes=10,
            num_strong=1,
            ctaugment=CTAugment(ops=("Identity", "Rotate")),
        )
        model.compile(optimizer=keras.optimizers.Adam(2e-3))
    ds, _ = semi.make_semi_dataset(semi.views_weak_strong, batch=8, mu=1)
    hist = model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0).history
    assert np.isfinite(hist["loss"][0])
    # CTAugment's weights and the marginals are updated from all-reduced statistics.
    for v in (model.ctaugment.rates, model.p_model, model.p_data, model.head.kernel):
        a, b = replica_values(v)
        np.testing.assert_array_equal(a, b)
    assert replica_values(model.ctaugment.rates)[0].min() < 1.0
