"""SimCLR: learns on digits, equals the one-device loss/gradients under MirroredStrategy."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import run_mirrored_equivalence, tiny_encoder
from tfless.methods.contrastive import SimCLR
from tfless.train.lars import LARS


def test_simclr_loss_falls(data):
    method = SimCLR(tiny_encoder(), projection_dim=16, temperature=0.5)
    method.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    hist = method.fit(data.views_dataset(64), steps_per_epoch=8, epochs=5, verbose=0)
    loss = np.asarray(hist.history["loss"])
    assert np.all(np.isfinite(loss))
    assert loss[-1] < loss[0] - 0.3, loss
    assert hist.history["contrast_accuracy"][-1] > hist.history["contrast_accuracy"][0]


def _loss_and_grads(method, views):
    with tf.GradientTape() as tape:
        loss = method.compute_loss(x={"views": views}, training=True)
    return loss, tape.gradient(loss, method.trainable_variables)


def test_simclr_global_batch_loss_same_on_one_and_two_replicas(data, mirrored_strategy):
    """Same weights, same global batch of 8: the loss and gradients match across strategies."""
    images = tf.constant(data.views_dataset(8).take(1).get_single_element()["views"][0])
    views = data.make_views(images, (3, 4))
    single = SimCLR(tiny_encoder(bn_synchronized=True), projection_dim=8, bn_synchronized=True)
    loss1, grads1 = _loss_and_grads(single, views)

    with mirrored_strategy.scope():
        dist = SimCLR(tiny_encoder(bn_synchronized=True), projection_dim=8, bn_synchronized=True)
    dist.compute_loss(x={"views": tuple(v[:4] for v in views)}, training=False)  # build variables
    dist.set_weights(single.get_weights())

    def local_views(ctx):
        i = ctx.replica_id_in_sync_group
        return tuple(v[4 * i : 4 * (i + 1)] for v in views)

    per_replica = mirrored_strategy.experimental_distribute_values_from_function(local_views)

    @tf.function
    def step(v):
        def fn(v):
            with tf.GradientTape() as tape:
                loss = dist.compute_loss(x={"views": v}, training=True)
                scaled = loss / mirrored_strategy.num_replicas_in_sync
            return loss, tape.gradient(scaled, dist.trainable_variables)

        losses, grads = mirrored_strategy.run(fn, args=(v,))
        mean = mirrored_strategy.reduce("MEAN", losses, axis=None)
        return mean, [mirrored_strategy.reduce("SUM", g, axis=None) for g in grads]

    loss2, grads2 = step(per_replica)
    np.testing.assert_allclose(loss2.numpy(), loss1.numpy(), rtol=1e-5)
    for g1, g2 in zip(grads1, grads2, strict=True):
        np.testing.assert_allclose(g2.numpy(), g1.numpy(), rtol=1e-3, atol=1e-5)


def test_simclr_fit_two_replicas_train_as_one(data, mirrored_strategy):
    images = data.views_dataset(8).take(1).get_single_element()["views"][0]
    run_mirrored_equivalence(
        lambda: SimCLR(tiny_encoder(), projection_dim=8, temperature=0.5),
        {"views": tuple(np.asarray(v) for v in data.make_views(images, (1, 2)))},
        mirrored_strategy,
        steps=2,
        # LARS as in the paper's recipe, also checking the optimizer under MirroredStrategy.
        optimizer_fn=lambda: LARS(0.3, weight_decay=1e-6),
        keys=("loss", "contrast_accuracy"),
    )


def test_simclr_bad_input(data):
    with pytest.raises(ValueError, match="temperature"):
        SimCLR(tiny_encoder(), temperature=0.0)
    method = SimCLR(tiny_encoder(), projection_dim=8)
    one = data.make_views(tf.zeros((1, 8, 8, 1)))
    with pytest.raises(ValueError, match="global batch has 1 image"):
        method.compute_loss(x={"views": one})
    with pytest.raises(ValueError, match="views"):
        method.compute_loss(x={"image": tf.zeros((4, 8, 8, 1))})


def test_simclr_stacked_views_one_replica_only(data, mirrored_strategy):
    """A list of views becomes one [V, B, ...] tensor in tf.data: fine on one replica, refused
    under a strategy (tf.distribute would split the view axis)."""
    method = SimCLR(tiny_encoder(), projection_dim=8)
    views = data.make_views(tf.random.uniform((4, 8, 8, 1)))
    stacked = method.compute_loss(x={"views": tf.stack(views)}, training=False)
    as_tuple = method.compute_loss(x={"views": views}, training=False)
    np.testing.assert_allclose(stacked.numpy(), as_tuple.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="tuple"):
        method.compute_loss(x={"views": tf.zeros((4, 8, 8, 1))})
    with mirrored_strategy.scope():
        dist = SimCLR(tiny_encoder(), projection_dim=8)
        dist.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=False)
    ds = tf.data.Dataset.from_tensors({"views": tf.stack(views)}).repeat()
    with pytest.raises(ValueError, match="tuple"):
        dist.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)
