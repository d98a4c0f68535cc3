"""MoCo v1/v2: learns on digits, keeps identical queues on every replica, rejects bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import replica_values, tiny_encoder
from tfless.methods.contrastive import MoCo


def test_moco_v1_loss_falls_once_queue_is_full(data):
    method = MoCo(tiny_encoder(), version=1, queue_size=256, momentum=0.99, projection_dim=16)
    method.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), jit_compile=False)
    hist = method.fit(data.views_dataset(64), steps_per_epoch=4, epochs=10, verbose=0)
    loss, acc = np.asarray(hist.history["loss"]), np.asarray(hist.history["contrast_accuracy"])
    # Epoch 0 contrasts against the random initial queue; from epoch 1 the queue holds real keys.
    assert loss[-1] < loss[1] - 0.5, loss
    assert acc[-1] > acc[1], acc


def test_moco_key_encoder_follows_query_encoder(data):
    method = MoCo(tiny_encoder(), version=2, queue_size=64, momentum=0.5, projection_dim=8)
    method.compile(optimizer=keras.optimizers.SGD(0.5), jit_compile=False)
    q0 = [v.numpy() for v in method.encoder.trainable_weights]
    k0 = [v.numpy() for v in method.key_encoder.trainable_weights]
    for a, b in zip(q0, k0, strict=True):
        np.testing.assert_array_equal(a, b)
    method.fit(data.views_dataset(16), steps_per_epoch=1, epochs=1, verbose=0)
    q1 = [v.numpy() for v in method.encoder.trainable_weights]
    k1 = [v.numpy() for v in method.key_encoder.trainable_weights]
    for a0, a1, b1 in zip(q0, q1, k1, strict=True):
        np.testing.assert_allclose(b1, 0.5 * a0 + 0.5 * a1, rtol=1e-5, atol=1e-6)
    assert int(method.queue.pointer.numpy()) == 16


def test_moco_queue_same_keys_same_order_on_every_replica(data, mirrored_strategy):
    with mirrored_strategy.scope():
        method = MoCo(tiny_encoder(), version=2, queue_size=32, projection_dim=8)
        method.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=False)
    views = data.make_views(
        tf.constant(data.views_dataset(8).take(1).get_single_element()["views"][0])
    )

    def local(ctx):
        i = ctx.replica_id_in_sync_group
        return tuple(v[4 * i : 4 * (i + 1)] for v in views)

    per_replica = mirrored_strategy.experimental_distribute_values_from_function(local)

    @tf.function
    def step(v):
        def fn(v):
            _, _, k, k_all = method._loss({"views": v}, True, step=7)
            method.queue.enqueue(k_all)
            return k

        return mirrored_strategy.run(fn, args=(v,))

    local_keys = mirrored_strategy.experimental_local_results(step(per_replica))
    expected = np.concatenate([k.numpy() for k in local_keys])  # replica 0's keys, then 1's
    queues = replica_values(method.queue.keys)
    assert len(queues) == 2
    np.testing.assert_array_equal(queues[0], queues[1])
    np.testing.assert_allclose(queues[0][:8], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(expected, axis=1), 1.0, rtol=1e-5)

    # and after real fit steps (key encoder updated, BN shuffled) they still agree
    hist = method.fit(data.views_dataset(8), steps_per_epoch=3, epochs=1, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    queues = replica_values(method.queue.keys)
    pointers = [int(p) for p in replica_values(method.queue.pointer)]
    np.testing.assert_array_equal(queues[0], queues[1])
    assert pointers == [0, 0]  # 8 + 3 * 8 = 32 = K: wrapped around


def test_moco_bad_input(data):
    with pytest.raises(ValueError, match="temperature"):
        MoCo(tiny_encoder(), temperature=0.0)
    with pytest.raises(ValueError, match="version"):
        MoCo(tiny_encoder(), version=3)
    method = MoCo(tiny_encoder(), queue_size=100, projection_dim=8)
    with pytest.raises(ValueError, match="multiple of the global batch"):
        method.compute_loss(x={"views": data.make_views(tf.zeros((8, 8, 8, 1)))})
    with pytest.raises(ValueError, match="global batch has 1 image"):
        method.compute_loss(x={"views": data.make_views(tf.zeros((1, 8, 8, 1)))})
