"""MANN's LRUA memory against a step-by-step NumPy reference."""

import numpy as np
import pytest
import tensorflow as tf

from tfless.layers import lru_memory


def _softmax(z):
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def _numpy_step(memory, usage, read_weights, keys, alpha, gamma):
    """The LRUA equations of Santoro et al. 2016, Section 3.1, one batch row at a time."""
    heads, slots = keys.shape[1], memory.shape[1]
    reads, new_memory, new_usage, new_read = [], [], [], []
    for b in range(memory.shape[0]):
        m, u = memory[b], usage[b]
        order = np.argsort(u, kind="stable")  # least used first, ties by index
        w_lu = np.zeros(slots)
        w_lu[order[:heads]] = 1.0
        sig = 1.0 / (1.0 + np.exp(-alpha[b]))
        w_w = sig[:, None] * read_weights[b] + (1.0 - sig[:, None]) * w_lu[None]
        cos = np.array(
            [
                [
                    keys[b, h] @ m[i] / (np.linalg.norm(keys[b, h]) * np.linalg.norm(m[i]) + 1e-8)
                    for i in range(slots)
                ]
                for h in range(heads)
            ]
        )
        w_r = _softmax(cos)
        reads.append(w_r @ m)
        m = m.copy()
        m[order[0]] = 0.0
        for h in range(heads):
            m = m + np.outer(w_w[h], keys[b, h])
        new_memory.append(m)
        new_usage.append(gamma * u + w_r.sum(0) + w_w.sum(0))
        new_read.append(w_r)
    return [np.stack(a) for a in (reads, new_memory, new_usage, new_read)]


def test_lru_steps_match_numpy_reference():
    rng = np.random.default_rng(0)
    batch, slots, width, heads, gamma = 2, 5, 3, 2, 0.9
    state = lru_memory.initial_state(batch, slots, width, heads)
    memory, usage, read_weights = (np.asarray(s, np.float64) for s in state)
    np.testing.assert_allclose(memory, 1e-6)
    np.testing.assert_array_equal(usage, 0.0)
    for step in range(4):
        keys = rng.normal(size=(batch, heads, width)).astype(np.float32)
        alpha = rng.normal(size=(batch, heads)).astype(np.float32)
        reads, state = lru_memory.lru_step(state, tf.constant(keys), tf.constant(alpha), gamma)
        want = _numpy_step(memory, usage, read_weights, keys, alpha, gamma)
        got = [reads, *state]
        for name, g, w in zip(("reads", "memory", "usage", "read_weights"), got, want):
            np.testing.assert_allclose(
                np.asarray(g), w, rtol=1e-4, atol=1e-5, err_msg=f"{step}:{name}"
            )
        _, memory, usage, read_weights = want
    # The memory took the written keys: far from its initial 1e-6.
    assert np.abs(memory).max() > 0.1


def test_first_write_goes_to_least_used_slots_only():
    # Zero read weights at the start: w_w = (1 - sigmoid(alpha)) w_lu, on the `heads` lowest slots.
    state = lru_memory.initial_state(1, 4, 2, 2)
    keys = tf.constant([[[1.0, 0.0], [0.0, 1.0]]])
    _, new = lru_memory.lru_step(state, keys, tf.zeros([1, 2]), gamma=0.95)
    written = np.asarray(new.memory)[0]
    np.testing.assert_allclose(written[:2], [[0.5, 0.5], [0.5, 0.5]], atol=1e-5)
    np.testing.assert_allclose(written[2:], 1e-6)


def test_least_used_weights_marks_smallest_usages():
    usage = tf.constant([[0.3, 0.1, 0.5, 0.1], [2.0, 1.0, 0.0, 3.0]])
    np.testing.assert_array_equal(
        lru_memory.least_used_weights(usage, 2), [[0, 1, 0, 1], [0, 1, 1, 0]]
    )


def test_more_heads_than_slots_is_refused():
    with pytest.raises(ValueError, match="slots=2 < heads=3"):
        lru_memory.initial_state(1, 2, 4, 3)
