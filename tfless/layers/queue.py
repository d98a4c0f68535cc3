"""MoCo's first-in-first-out queue of negative keys."""

from __future__ import annotations

import keras
import tensorflow as tf


class KeyQueue(keras.layers.Layer):
    """A FIFO of ``size`` L2-normalized keys of dimension ``dim`` (He et al. 2019, Sec. 3.1).

    The queue is a per-replica (sync-on-read) variable: each replica keeps its
    own copy and enqueues the keys of the WHOLE global batch (gathered from all
    replicas, in replica order), so every copy holds the same keys in the same
    order without any extra communication. Reads outside a replica context
    (checkpoints, inspection) see the first replica's copy.

    ``size`` must be a multiple of the global batch so a batch never wraps
    around the end; :meth:`check_batch_size` raises ``ValueError`` otherwise.

    Args:
      size: K, number of keys held.
      dim: key dimension.
      seed: seed of the random unit-vector initialization.
    """

    def __init__(self, size: int, dim: int, seed: int = 0, name: str = "key_queue", **kwargs):
        super().__init__(name=name, **kwargs)
        if int(size) != size or size < 1:
            raise ValueError(f"queue size must be a positive integer; got {size!r}.")
        self.size = int(size)
        self.dim = int(dim)
        init = tf.math.l2_normalize(
            tf.random.stateless_normal((self.size, self.dim), seed=[seed, 17]), axis=1
        )
        self.keys = keras.Variable(
            init,
            trainable=False,
            synchronization="on_read",
            aggregation="only_first_replica",
            name="keys",
        )
        self.pointer = keras.Variable(
            0,
            dtype="int32",
            trainable=False,
            synchronization="on_read",
            aggregation="only_first_replica",
            name="pointer",
        )

    def check_batch_size(self, global_batch: int) -> None:
        """Raises ``ValueError`` unless ``global_batch`` divides the queue size."""
        if global_batch < 1 or self.size % int(global_batch):
            raise ValueError(
                f"MoCo queue size {self.size} must be a multiple of the global batch size; "
                f"got global batch {global_batch}. Choose queue_size = k * {global_batch}."
            )

    def call(self, inputs=None):
        return tf.convert_to_tensor(self.keys)

    def enqueue(self, keys) -> None:
        """Writes ``keys`` ``[N, dim]`` (the global batch) over the oldest ``N`` entries."""
        n = tf.shape(keys)[0]
        ptr = tf.convert_to_tensor(self.pointer)
        rows = tf.range(n) + ptr
        self.keys.assign(
            tf.tensor_scatter_nd_update(
                tf.convert_to_tensor(self.keys), rows[:, None], tf.cast(keys, self.keys.dtype)
            )
        )
        self.pointer.assign((ptr + n) % self.size)
