"""Least-recently-used-access (LRUA) memory of MANN.

Santoro, Bartunov, Botvinick, Wierstra and Lillicrap, "One-shot Learning with
Memory-Augmented Neural Networks" (arXiv 1605.06065), Section 3.1. Pure functions of
tensors, so that the memory update is checked step by step against NumPy:

* read weights ``w_r_t = softmax_i(cos(k_t, M(i)))`` for each read head;
* least-used weights ``w_lu_{t-1}``: 1 on the ``n`` slots of smallest usage ``w_u_{t-1}``
  (``n`` = the number of read heads), 0 elsewhere;
* write weights ``w_w_t = sigmoid(alpha) * w_r_{t-1} + (1 - sigmoid(alpha)) * w_lu_{t-1}``;
* before writing, the least-used slot (smallest ``w_u_{t-1}``) is set to zero, then
  ``M_t(i) = M_{t-1}(i) + sum_heads w_w_t(i) k_t``;
* usage ``w_u_t = gamma * w_u_{t-1} + sum_heads (w_r_t + w_w_t)``.

Choices where the paper's equations leave room (tested in tests/layers/test_lru_memory.py):
each head reads ``M_{t-1}``, the memory before this step's write. The paper indexes the
read by ``M_t``, whose only change is the write of the same key ``k_t``; reading after the
write would mostly retrieve the key just stored (cosine 1), and the public
reimplementations read before writing as here. The initial state is a memory of
``1e-6`` everywhere (a zero memory has no cosine), zero usage and zero read weights, so the
first write goes to the least-used slots alone. Ties between equal usages go to the lower
slot index.
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

#: Value of every memory cell at the start of a sequence (cosine needs a non-zero norm).
INITIAL_MEMORY = 1e-6


class LRUState(NamedTuple):
    """The LRUA memory state of a batch of sequences.

    Attributes:
      memory: ``[B, S, W]``, S slots of width W.
      usage: ``[B, S]`` usage weights ``w_u``.
      read_weights: ``[B, H, S]`` read weights ``w_r`` of the H heads at the last step.
    """

    memory: tf.Tensor
    usage: tf.Tensor
    read_weights: tf.Tensor


def initial_state(batch, slots: int, width: int, heads: int, dtype=tf.float32) -> LRUState:
    """The state before the first step: memory ``1e-6``, usage and read weights zero."""
    if slots < heads:
        raise ValueError(
            f"LRUA memory needs at least one slot per read head; got slots={slots!r} < "
            f"heads={heads!r}."
        )
    return LRUState(
        memory=tf.fill(tf.stack([batch, slots, width]), tf.constant(INITIAL_MEMORY, dtype)),
        usage=tf.zeros(tf.stack([batch, slots]), dtype),
        read_weights=tf.zeros(tf.stack([batch, heads, slots]), dtype),
    )


def cosine_read_weights(keys, memory, eps: float = 1e-8):
    """``softmax`` over slots of the cosine similarity between each key and each slot.

    Args:
      keys: ``[B, H, W]``, one key per head.
      memory: ``[B, S, W]``.

    Returns:
      ``[B, H, S]`` read weights, each row summing to one.
    """
    dots = tf.matmul(keys, memory, transpose_b=True)
    key_norm = tf.norm(keys, axis=-1)[:, :, None]
    slot_norm = tf.norm(memory, axis=-1)[:, None, :]
    return tf.nn.softmax(dots / (key_norm * slot_norm + eps), axis=-1)


def least_used_slots(usage, n: int):
    """``[B, n]`` int32: the ``n`` slots of smallest usage, least used first (ties: lower
    index first, as ``tf.math.top_k`` keeps equal values in index order)."""
    return tf.math.top_k(-usage, k=n).indices


def least_used_weights(usage, n: int):
    """``[B, S]``: 1 on the ``n`` slots of smallest usage (ties: lower index first), else 0."""
    slots = usage.shape[-1]
    return tf.reduce_sum(tf.one_hot(least_used_slots(usage, n), slots, dtype=usage.dtype), axis=1)


def lru_step(state: LRUState, keys, alpha_logits, gamma: float):
    """One read-and-write step of the LRUA memory.

    Args:
      state: :class:`LRUState` after step ``t-1``.
      keys: ``[B, H, W]`` keys ``k_t`` of the H heads (read with, and written).
      alpha_logits: ``[B, H]`` the write gates before the sigmoid.
      gamma: usage decay.

    Returns:
      ``(reads [B, H, W], new_state)``.
    """
    heads = keys.shape[1]
    slots = state.memory.shape[1]
    order = least_used_slots(state.usage, heads)
    least_used = tf.reduce_sum(tf.one_hot(order, slots, dtype=keys.dtype), axis=1)  # w_lu_{t-1}
    gate = tf.sigmoid(alpha_logits)[:, :, None]
    write_weights = gate * state.read_weights + (1.0 - gate) * least_used[:, None, :]
    read_weights = cosine_read_weights(keys, state.memory)
    reads = tf.matmul(read_weights, state.memory)
    # "Prior to writing to memory, the least used memory location ... is set to zero."
    cleared = 1.0 - tf.one_hot(order[:, 0], slots, dtype=keys.dtype)
    memory = state.memory * cleared[:, :, None] + tf.matmul(write_weights, keys, transpose_a=True)
    usage = (
        gamma * state.usage
        + tf.reduce_sum(read_weights, axis=1)
        + tf.reduce_sum(write_weights, axis=1)
    )
    return reads, LRUState(memory, usage, read_weights)
