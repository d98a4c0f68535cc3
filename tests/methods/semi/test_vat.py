import keras
import numpy as np
import pytest

from tests.testing import first_batch, run_mirrored_equivalence
from tfless.methods.semi import VAT


def test_vat_learns(semi):
    keras.utils.set_random_seed(0)
    model = VAT(semi.tiny_encoder(), num_classes=10, eps=0.5)
    ds, _ = semi.make_semi_dataset(semi.views_single, batch=16, mu=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    hist = model.fit(ds, steps_per_epoch=20, epochs=3, verbose=0).history
    assert hist["labeled_loss"][-1] < 0.6 * hist["labeled_loss"][0]
    assert hist["unlabeled_loss"][0] > 0  # LDS is positive: the perturbation changes predictions
    assert hist["unlabeled_entropy"][-1] < hist["unlabeled_entropy"][0]
    acc = model.evaluate(semi.digits_test_dataset(), verbose=0, return_dict=True)["accuracy"]
    assert acc > 0.5


def test_vat_entropy_minimisation_adds_the_unlabeled_entropy(semi):
    model = VAT(semi.tiny_encoder(), num_classes=10, eps=0.5, entropy_min=True, weight_decay=0.0)
    ds, _ = semi.make_semi_dataset(semi.views_single, batch=8, mu=2)
    loss = float(model.compute_loss(x=next(iter(ds)), training=False))
    parts = [model.labeled_loss_tracker, model.unlabeled_loss_tracker, model.entropy_tracker]
    assert loss == pytest.approx(sum(float(t.result()) for t in parts), rel=1e-5)
    assert float(model.entropy_tracker.result()) > 1.0  # untrained: close to log(10)


def test_vat_adversarial_direction_beats_random(semi):
    """LDS along the power-iteration direction exceeds the KL along random directions."""
    import tensorflow as tf

    from tfless.losses.consistency import kl_divergence_logits, vat_direction

    keras.utils.set_random_seed(3)
    model = VAT(semi.tiny_encoder(), num_classes=10, eps=0.5)
    ds, _ = semi.make_semi_dataset(semi.views_single, batch=8, mu=2)
    x = next(iter(ds))["unlabeled"]["image"]

    def f(images):
        return model.logits(images, training=False)

    logits = f(x)
    d = vat_direction(f, x, logits, xi=1e-6, num_iterations=1)
    adv = float(kl_divergence_logits(logits, f(x + 0.5 * d)))
    rand = tf.random.normal(tf.shape(x))
    rand = rand / tf.norm(tf.reshape(rand, [16, -1]), axis=1)[:, None, None, None]
    rnd = float(kl_divergence_logits(logits, f(x + 0.5 * rand)))
    assert adv > 2 * rnd


def test_vat_bad_input(semi):
    enc = semi.tiny_encoder()
    with pytest.raises(ValueError, match="eps must be > 0; got -1"):
        VAT(enc, num_classes=10, eps=-1.0)
    with pytest.raises(ValueError, match="num_iterations"):
        VAT(enc, num_classes=10, num_iterations=0)


def test_vat_two_replicas_train_as_one(semi, mirrored_strategy):
    # The random start of the power iteration is drawn per image (invariant_random).
    ds, _ = semi.make_semi_dataset(semi.views_single, batch=8, mu=2)
    run_mirrored_equivalence(
        lambda: VAT(semi.tiny_encoder(), num_classes=10, eps=1.0),
        first_batch(ds),
        mirrored_strategy,
        steps=2,
        optimizer_fn=lambda: keras.optimizers.SGD(0.03, momentum=0.9),
        invariant_random=True,
        keys=("loss", "labeled_loss", "unlabeled_loss"),
    )


def test_vat_only_the_clean_pass_moves_bn_statistics(semi):
    """Moving statistics after a VAT loss equal those after one clean forward pass alone."""
    from tfless.layers.batchnorm import bn_moving_variables

    keras.utils.set_random_seed(1)
    model = VAT(semi.tiny_encoder(), num_classes=10, eps=0.5)
    ds, _ = semi.make_semi_dataset(semi.views_single, batch=8, mu=2)
    batch = next(iter(ds))
    model.compute_loss(x=batch, training=True)  # builds; moves the statistics once
    variables = bn_moving_variables(model)
    assert variables, "the tiny encoder has batch norm"
    before = [v.numpy().copy() for v in variables]
    model.compute_loss(x=batch, training=True)
    after_vat = [v.numpy().copy() for v in variables]
    for v, b in zip(variables, before):
        v.assign(b)
    x = np.concatenate([batch["labeled"]["image"], batch["unlabeled"]["image"]])
    model.logits(x, training=True)  # the clean pass only
    after_clean = [v.numpy() for v in variables]
    for a, c in zip(after_vat, after_clean):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)
    assert any(not np.allclose(a, b) for a, b in zip(after_vat, before))
