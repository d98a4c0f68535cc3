"""SNAIL's building blocks: dense blocks of causal dilated convolutions and causal attention.

Mishra, Rohaninejad, Chen and Abbeel, "A Simple Neural Attentive Meta-Learner"
(arXiv 1707.03141), Section 3 and Appendix A. Every block maps a sequence ``[B, T, C]``
to ``[B, T, C + D]``: it concatenates its new features to its input (dense connectivity),
and its output at time ``t`` depends on the inputs at times ``<= t`` only.
"""

from __future__ import annotations

import math

import keras
from keras import ops


class DenseBlock(keras.layers.Layer):
    """``concat(x, tanh(conv_f(x)) * sigmoid(conv_g(x)))`` with causal convolutions of kernel 2
    and dilation ``dilation`` (the paper's DenseBlock(X, R, D)).

    Args:
      dilation: R, the dilation rate.
      filters: D, the channels added.
    """

    def __init__(self, dilation: int, filters: int, **kwargs):
        super().__init__(**kwargs)
        self.dilation = int(dilation)
        self.filters = int(filters)
        conv = dict(kernel_size=2, dilation_rate=self.dilation, padding="causal")
        self.conv_f = keras.layers.Conv1D(self.filters, name="conv_f", **conv)
        self.conv_g = keras.layers.Conv1D(self.filters, name="conv_g", **conv)

    def build(self, input_shape):
        self.conv_f.build(input_shape)
        self.conv_g.build(input_shape)
        self.built = True

    def call(self, x):
        gated = ops.tanh(self.conv_f(x)) * ops.sigmoid(self.conv_g(x))
        return ops.concatenate([x, gated], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.filters)


def tc_dilations(sequence_length: int) -> tuple[int, ...]:
    """Dilations of a TC block over ``T`` steps: ``2, 4, ..., 2^ceil(log2 T)`` (the paper's
    ``for i in 1..ceil(log2 T)``), so the receptive field covers the whole sequence."""
    if sequence_length < 2:
        raise ValueError(f"A TC block needs a sequence of >= 2 steps; got {sequence_length!r}.")
    return tuple(2**i for i in range(1, math.ceil(math.log2(sequence_length)) + 1))


class TCBlock(keras.layers.Layer):
    """A stack of :class:`DenseBlock` with dilations ``2, 4, ..., 2^ceil(log2 T)``.

    Args:
      sequence_length: T, the longest sequence the block sees (sets the number of layers).
      filters: D, channels each dense block adds (128 in the paper's few-shot network).
    """

    def __init__(self, sequence_length: int, filters: int, **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = int(sequence_length)
        self.filters = int(filters)
        self.blocks = [
            DenseBlock(d, self.filters, name=f"dense_{i}")
            for i, d in enumerate(tc_dilations(self.sequence_length))
        ]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.built = True

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return x

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.filters * len(self.blocks))


class AttentionBlock(keras.layers.Layer):
    """Causal single-head soft attention: ``concat(x, softmax(mask(q k^T / sqrt(K))) v)``
    (the paper's AttentionBlock(X, K, V)); position ``t`` attends to positions ``<= t``.

    Args:
      key_size: K, the size of queries and keys.
      value_size: V, the channels added.
    """

    def __init__(self, key_size: int, value_size: int, **kwargs):
        super().__init__(**kwargs)
        self.key_size = int(key_size)
        self.value_size = int(value_size)
        self.query = keras.layers.Dense(self.key_size, name="query")
        self.keys = keras.layers.Dense(self.key_size, name="keys")
        self.values = keras.layers.Dense(self.value_size, name="values")

    def build(self, input_shape):
        for dense in (self.query, self.keys, self.values):
            dense.build(input_shape)
        self.built = True

    def call(self, x):
        logits = ops.matmul(self.query(x), ops.transpose(self.keys(x), (0, 2, 1)))
        logits = logits / math.sqrt(self.key_size)
        steps = ops.shape(x)[1]
        position = ops.arange(steps)
        causal = position[None, :] <= position[:, None]  # [query t, key s]: s <= t
        logits = ops.where(causal[None], logits, ops.full_like(logits, -1e9))
        read = ops.matmul(ops.softmax(logits, axis=-1), self.values(x))
        return ops.concatenate([x, read], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.value_size)
