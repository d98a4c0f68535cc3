"""Binary Tree-LSTM over level-ordered node tables, one weight set per function symbol.

The N-ary Tree-LSTM of "Improved Semantic Representations From Tree-Structured Long
Short-Term Memory Networks" (Tai, Socher, Manning, 2015, arXiv 1503.00075) with N = 2 and
separate left and right forget gates, in the form of "Combining Symbolic Expressions and
Black-box Function Evaluations in Neural Programs" (Arabshahi, Singh, Anandkumar, ICLR
2018, arXiv 1801.04342; official code ForoughA/neuralMath): every function symbol has its
own cell weights, a function node has no input but its children's states, leaves are
``h = sigmoid(embedding[symbol])`` with ``c = 0`` and raw numbers pass through the number
encoder ``h = sigmoid(W2 sigmoid(W1 v + b1) + b2)``. For a function ``f`` with children
states ``(h_l, c_l)``, ``(h_r, c_r)`` (zeros for the missing right child of a unary
function):

    [i, f_l, f_r, o, u] = U_f [h_l; h_r] + b_f
    c = sigmoid(i) * tanh(u) + sigmoid(f_l) * c_l + sigmoid(f_r) * c_r
    h = sigmoid(o) * tanh(c)

Tables come from :mod:`tfless.data.symbolic_tables` (``symbol``, ``left``, ``right``,
``height``, ``value``: ``[B, M]``). All leaves of the batch are embedded at once; then one
step per height runs every node of that height of every tree together, with one matrix
product per function symbol present (``dynamic_partition`` by symbol, ``dynamic_stitch``
back); heights above the batch's highest tree are skipped (``tf.cond``), which halves the
cost of a training step on depth-4 identities against running all ``max_height`` levels. A
tree higher than ``max_height`` is refused (``InvalidArgumentError``) rather than left with
zero root states. :func:`per_node_states` is the one-call-per-node reference.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


class TreeLSTM(keras.layers.Layer):
    """Encodes node tables into per-node hidden states ``h``: ``[B, M, hidden]``.

    Args:
      num_symbols: largest symbol id (ids ``1..num_symbols``; 0 is padding).
      function_ids: the ids of function symbols, a contiguous range ``first..last``; each
        gets its own cell weights.
      number_id: the id of raw ``Number`` leaves (encoded from their value), or None.
      hidden: state size (the paper: 50).
      max_height: the largest node height computed (the depth limit of a side).
      dropout: dropout rate on leaf states while training (the paper's notebook: 0.2).
      seed: initializer seed.
    """

    def __init__(
        self,
        num_symbols: int,
        function_ids,
        number_id: int | None = None,
        hidden: int = 50,
        max_height: int = 7,
        dropout: float = 0.2,
        seed: int = 0,
        name: str = "tree_lstm",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        ids = list(function_ids)
        if not ids or ids != list(range(ids[0], ids[0] + len(ids))) or ids[0] < 1:
            raise ValueError(f"function_ids must be a contiguous range of ids >= 1; got {ids}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout={dropout} must be in [0, 1).")
        self.num_symbols = int(num_symbols)
        self.first_function, self.num_functions = ids[0], len(ids)
        self.number_id = number_id
        self.hidden = int(hidden)
        self.max_height = int(max_height)
        self.dropout = keras.layers.Dropout(dropout, seed=seed)
        init = keras.initializers.GlorotUniform(seed=seed)
        h = self.hidden
        self.embedding = self.add_weight((self.num_symbols + 1, h), init, name="leaf_embedding")
        self.leaf_bias = self.add_weight((h,), "zeros", name="leaf_bias")
        self.cell_kernel = self.add_weight(
            (self.num_functions, 2 * h, 5 * h), init, name="cell_kernel"
        )
        self.cell_bias = self.add_weight((self.num_functions, 5 * h), "zeros", name="cell_bias")
        self.num_w1 = self.add_weight((1, h), init, name="number_w1")
        self.num_b1 = self.add_weight((h,), "zeros", name="number_b1")
        self.num_w2 = self.add_weight((h, h), init, name="number_w2")
        self.num_b2 = self.add_weight((h,), "zeros", name="number_b2")

    def encode_numbers(self, values):
        """The number encoder: values ``[n]`` -> states ``[n, hidden]``."""
        hid = tf.sigmoid(tf.matmul(values[:, None], self.num_w1) + self.num_b1)
        return tf.sigmoid(tf.matmul(hid, self.num_w2) + self.num_b2)

    def leaf_states(self, symbol, value):
        """Leaf states ``[n, hidden]`` of symbol ids ``[n]`` and values ``[n]``."""
        h = tf.sigmoid(tf.gather(self.embedding, symbol) + self.leaf_bias)
        if self.number_id is not None:
            h = tf.where((symbol == self.number_id)[:, None], self.encode_numbers(value), h)
        return h

    def cell(self, function_index, h_l, c_l, h_r, c_r):
        """One step for nodes ``[n]`` of function indices ``0..num_functions-1``."""
        x = tf.concat([h_l, h_r], axis=-1)
        parts = tf.dynamic_partition(x, function_index, self.num_functions)
        rows = tf.dynamic_partition(tf.range(tf.shape(x)[0]), function_index, self.num_functions)
        kernels = tf.unstack(self.cell_kernel)
        gates = tf.dynamic_stitch(rows, [tf.matmul(p, k) for p, k in zip(parts, kernels)])
        gates = tf.reshape(gates, [-1, 5 * self.hidden]) + tf.gather(self.cell_bias, function_index)
        i, f_l, f_r, o, u = tf.split(gates, 5, axis=-1)
        c = tf.sigmoid(i) * tf.tanh(u) + tf.sigmoid(f_l) * c_l + tf.sigmoid(f_r) * c_r
        return tf.sigmoid(o) * tf.tanh(c), c

    def _level(self, level, h, c, flat, kids):
        """States after computing every node of height ``level`` (the others unchanged)."""
        idx = tf.where(flat["height"] == level)[:, 0]
        zero = tf.zeros([1, self.hidden], h.dtype)
        h_pad, c_pad = tf.concat([h, zero], 0), tf.concat([c, zero], 0)
        left, right = tf.gather(kids["left"], idx), tf.gather(kids["right"], idx)
        function = tf.gather(flat["symbol"], idx) - self.first_function
        h_new, c_new = self.cell(
            function,
            tf.gather(h_pad, left),
            tf.gather(c_pad, left),
            tf.gather(h_pad, right),
            tf.gather(c_pad, right),
        )
        h = tf.tensor_scatter_nd_update(h, idx[:, None], h_new)
        return h, tf.tensor_scatter_nd_update(c, idx[:, None], c_new)

    def call(self, tables, training=False):
        symbol = tf.cast(tables["symbol"], tf.int32)
        batch, size = tf.shape(symbol)[0], tf.shape(symbol)[1]
        n = batch * size
        flat = {k: tf.reshape(tf.cast(tables[k], tf.int32), [-1]) for k in ("symbol", "height")}
        top = tf.reduce_max(flat["height"])
        tf.debugging.assert_less_equal(
            top,
            self.max_height,
            message=f"A tree of the batch is higher than this layer's max_height={self.max_height}",
        )
        offset = tf.repeat(tf.range(batch) * size, size)
        # Missing children point at row n of the padded state, which stays zero.
        kids = {}
        for key in ("left", "right"):
            local = tf.reshape(tf.cast(tables[key], tf.int32), [-1])
            kids[key] = tf.where(local >= 0, local + offset, n)
        value = tf.reshape(tf.cast(tables["value"], self.compute_dtype), [-1])
        is_leaf = (flat["height"] == 0)[:, None]
        leaf = self.dropout(self.leaf_states(flat["symbol"], value), training=training)
        h = tf.where(is_leaf, leaf, tf.zeros_like(leaf))
        c = tf.zeros_like(h)
        for level in range(1, self.max_height + 1):
            # Levels above the batch's highest tree are skipped, not run on empty sets: a
            # batch of shallow trees costs its own height, not max_height.
            h, c = tf.cond(
                level <= top,
                lambda level=level, h=h, c=c: self._level(level, h, c, flat, kids),
                lambda h=h, c=c: (h, c),
            )
        return tf.reshape(h, [batch, size, self.hidden])


def per_node_states(layer: TreeLSTM, table: dict, root: int) -> np.ndarray:
    """``h`` of node ``root`` of ONE table (arrays ``[M]``), one call per node, recursively.

    The reference the level-batched :class:`TreeLSTM` is checked and timed against.
    """
    symbol, value = np.asarray(table["symbol"]), np.asarray(table["value"], np.float32)
    left, right = np.asarray(table["left"]), np.asarray(table["right"])

    def visit(i):
        if left[i] < 0:
            h = layer.leaf_states(tf.constant([symbol[i]]), tf.constant([value[i]]))
            return h, tf.zeros_like(h)
        h_l, c_l = visit(left[i])
        if right[i] >= 0:
            h_r, c_r = visit(right[i])
        else:
            h_r = c_r = tf.zeros_like(h_l)
        f = tf.constant([symbol[i] - layer.first_function])
        return layer.cell(f, h_l, c_l, h_r, c_r)

    return visit(int(root))[0].numpy()[0]
