"""Projection heads, MoCo's key queue and momentum encoder, PIRL's memory bank."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless.layers.heads import moco_head, simclr_head
from tfless.layers.memory_bank import MemoryBank
from tfless.layers.momentum import clone_network, momentum_update_trainable
from tfless.layers.queue import KeyQueue


def test_heads_shapes():
    assert simclr_head(16)(tf.zeros((3, 16))).shape == (3, 128)
    assert len(simclr_head(16, 32, 8).layers) == 5  # input, dense, bn, relu, projection
    assert len(moco_head(16, version=1).layers) == 2  # linear
    assert moco_head(16, version=2, output_dim=4)(tf.zeros((2, 16))).shape == (2, 4)
    with pytest.raises(ValueError, match="version"):
        moco_head(16, version=3)


def test_key_queue_fifo_and_batch_check():
    q = KeyQueue(6, 2)
    np.testing.assert_allclose(np.linalg.norm(q().numpy(), axis=1), 1.0, rtol=1e-5)
    for i in range(4):  # 4 batches of 2 into 6 slots: the 4th overwrites the 1st
        q.enqueue(tf.fill((2, 2), float(i)))
    np.testing.assert_array_equal(q().numpy()[:, 0], [3, 3, 1, 1, 2, 2])
    assert int(q.pointer.numpy()) == 2
    q.check_batch_size(3)
    with pytest.raises(ValueError, match="multiple of the global batch"):
        q.check_batch_size(4)


def test_memory_bank_ema_update():
    bank = MemoryBank(5, 3, momentum=0.5)
    old = bank(tf.constant([1, 3])).numpy()
    new = np.eye(3, dtype="f4")[:2]
    bank.update(tf.constant([1, 3]), new)
    want = 0.5 * old + 0.5 * new
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    np.testing.assert_allclose(bank(tf.constant([1, 3])).numpy(), want, rtol=1e-5)
    assert bank.sample(7, tf.constant([0, 1])).shape == (7, 3)
    with pytest.raises(ValueError, match="momentum"):
        MemoryBank(5, 3, momentum=1.0)


def test_momentum_update_of_key_network():
    source = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    target = clone_network(source)
    for a, b in zip(source.weights, target.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    old_t = [w.numpy() for w in target.weights]
    for w in source.weights:
        w.assign(w + 1.0)
    momentum_update_trainable(target, source, 0.9)
    for t, o, s in zip(target.weights, old_t, source.weights, strict=True):
        np.testing.assert_allclose(t.numpy(), 0.9 * o + 0.1 * s.numpy(), rtol=1e-6)


def test_clone_network_with_local_batch_norm():
    from tfless.backbones import build_backbone

    encoder = build_backbone("convnet", (8, 8, 1), widths=(4, 8), bn_synchronized=True)
    clone = clone_network(encoder, local_bn=True)
    bns = [layer for layer in clone.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert bns and not any(layer.synchronized for layer in bns)
    x = tf.random.uniform((2, 8, 8, 1))
    np.testing.assert_allclose(clone(x).numpy(), encoder(x).numpy(), rtol=1e-5, atol=1e-6)
