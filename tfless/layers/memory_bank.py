"""PIRL's memory bank: an exponential moving average of each example's representation."""

from __future__ import annotations

import keras
import tensorflow as tf


class MemoryBank(keras.layers.Layer):
    """``num_data`` L2-normalized vectors, one per training example, indexed by ``index``.

    After each step the rows of the batch become
    ``normalize(m * bank[i] + (1 - m) * f(v_i))`` (Misra & van der Maaten 2019,
    Sec. 3.2, m = 0.5; Wu et al. 2018). Every replica updates its own copy with
    the rows of the whole global batch (gathered by the method), so all copies
    stay equal.

    Args:
      num_data: number of training examples (indices must be in ``[0, num_data)``).
      dim: representation size.
      momentum: m, the weight of the old entry.
      seed: seed of the random unit-vector initialization.
    """

    def __init__(
        self, num_data: int, dim: int, momentum: float = 0.5, seed: int = 0, name="memory_bank"
    ):
        super().__init__(name=name)
        if int(num_data) < 2:
            raise ValueError(f"memory bank needs num_data >= 2 examples; got {num_data!r}.")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"memory bank momentum must be in [0, 1); got {momentum!r}.")
        self.num_data = int(num_data)
        self.dim = int(dim)
        self.momentum = float(momentum)
        init = tf.math.l2_normalize(
            tf.random.stateless_normal((self.num_data, self.dim), seed=[seed, 23]), axis=1
        )
        self.bank = keras.Variable(
            init,
            trainable=False,
            synchronization="on_read",
            aggregation="only_first_replica",
            name="bank",
        )

    def call(self, indices):
        """Rows ``[B, dim]`` at ``indices`` ``[B]``."""
        return tf.gather(tf.convert_to_tensor(self.bank), indices)

    def sample(self, count: int, seed):
        """``count`` rows drawn uniformly (with replacement) as negatives, ``[count, dim]``."""
        idx = tf.random.stateless_uniform((count,), seed, 0, self.num_data, dtype=tf.int32)
        return tf.gather(tf.convert_to_tensor(self.bank), idx)

    def update(self, indices, values) -> None:
        """EMA-updates rows ``indices`` ``[N]`` with ``values`` ``[N, dim]``."""
        old = tf.gather(tf.convert_to_tensor(self.bank), indices)
        new = tf.math.l2_normalize(
            self.momentum * old + (1.0 - self.momentum) * tf.cast(values, old.dtype), axis=1
        )
        self.bank.assign(
            tf.tensor_scatter_nd_update(
                tf.convert_to_tensor(self.bank), tf.cast(indices, tf.int32)[:, None], new
            )
        )
