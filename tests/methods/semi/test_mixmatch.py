import keras
import numpy as np
import pytest

from tests.testing import replica_values
from tfless.methods.semi import MixMatch


def test_mixmatch_learns(semi):
    keras.utils.set_random_seed(0)
    model = MixMatch(semi.tiny_encoder(), num_classes=10, lambda_u=10.0, rampup_steps=40)
    ds, _ = semi.make_semi_dataset(semi.views_multi_weak(2), batch=20, mu=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    hist = model.fit(ds, steps_per_epoch=25, epochs=3, verbose=0).history
    assert hist["labeled_loss"][-1] < 0.7 * hist["labeled_loss"][0]
    assert hist["unlabeled_weight"][0] < hist["unlabeled_weight"][-1] <= 10.0
    acc = model.evaluate(semi.digits_test_dataset(), verbose=0, return_dict=True)["accuracy"]
    assert acc > 0.5


def test_mixmatch_label_guess_is_sharpened_mean(semi):
    keras.utils.set_random_seed(1)
    model = MixMatch(semi.tiny_encoder(), num_classes=10, temperature=0.5)
    ds, _ = semi.make_semi_dataset(semi.views_multi_weak(2), batch=4, mu=2)
    views = next(iter(ds))["unlabeled"]["views"]
    q = np.asarray(model.guess_labels(views, training=False))

    def probs(images):
        z = np.asarray(model.logits(images, training=False), np.float64)
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    p = (probs(views[0]) + probs(views[1])) / 2
    ref = p**2 / (p**2).sum(1, keepdims=True)
    np.testing.assert_allclose(q, ref, rtol=1e-3, atol=1e-6)


def test_mixmatch_bad_input(semi):
    enc = semi.tiny_encoder()
    with pytest.raises(ValueError, match="temperature must be > 0; got 0"):
        MixMatch(enc, num_classes=10, temperature=0.0)
    with pytest.raises(ValueError, match="alpha"):
        MixMatch(enc, num_classes=10, alpha=-1.0)


def test_mixmatch_mirrored_one_step(semi, mirrored_strategy):
    # MixUp pairs images within each replica, so two replicas do not compute one device's
    # step; what must hold is that both replicas end with the same weights.
    with mirrored_strategy.scope():
        model = MixMatch(semi.tiny_encoder(), num_classes=10)
        model.compile(optimizer=keras.optimizers.Adam(2e-3))
    ds, _ = semi.make_semi_dataset(semi.views_multi_weak(2), batch=8, mu=2)
    hist = model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0).history
    assert np.isfinite(hist["loss"][0])
    a, b = replica_values(model.head.kernel)
    np.testing.assert_array_equal(a, b)
