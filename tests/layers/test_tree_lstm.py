"""The Tree-LSTM against a per-node NumPy computation and against the per-node loop."""

import numpy as np
import pytest
import tensorflow as tf

from tfless.data.symbolic import FUNCTIONS, NUMBER, SYMBOL_ID, VOCABULARY, Node, equation, number
from tfless.data.symbolic_check import parse_infix
from tfless.data.symbolic_generate import function_evaluations, generate_identities
from tfless.data.symbolic_tables import TABLE_KEYS, node_tables
from tfless.layers.tree_lstm import TreeLSTM, per_node_states


def _layer(hidden=4, seed=0, **kwargs):
    kwargs.setdefault("dropout", 0.0)
    return TreeLSTM(
        len(VOCABULARY),
        range(1, len(FUNCTIONS) + 1),
        SYMBOL_ID[NUMBER],
        hidden=hidden,
        seed=seed,
        **kwargs,
    )


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _numpy_node(layer, node):
    """(h, c) of a tree node written out from the paper's equations with NumPy."""
    emb, leaf_b = layer.embedding.numpy(), layer.leaf_bias.numpy()
    if not node.children:
        if node.symbol == NUMBER:
            hid = _sigmoid(node.value * layer.num_w1.numpy()[0] + layer.num_b1.numpy())
            h = _sigmoid(hid @ layer.num_w2.numpy() + layer.num_b2.numpy())
        else:
            h = _sigmoid(emb[SYMBOL_ID[node.symbol]] + leaf_b)
        return h, np.zeros_like(h)
    hl, cl = _numpy_node(layer, node.children[0])
    if len(node.children) == 2:
        hr, cr = _numpy_node(layer, node.children[1])
    else:
        hr, cr = np.zeros_like(hl), np.zeros_like(cl)
    f = SYMBOL_ID[node.symbol] - 1
    gates = np.concatenate([hl, hr]) @ layer.cell_kernel.numpy()[f] + layer.cell_bias.numpy()[f]
    i, f_l, f_r, o, u = np.split(gates, 5)
    c = _sigmoid(i) * np.tanh(u) + _sigmoid(f_l) * cl + _sigmoid(f_r) * cr
    return _sigmoid(o) * np.tanh(c), c


def test_small_tree_equals_a_per_node_numpy_computation():
    layer = _layer(hidden=4, seed=3)
    # Random biases too, so that every term of the cell is exercised.
    layer.cell_bias.assign(np.random.default_rng(0).normal(size=layer.cell_bias.shape))
    tree = equation(parse_infix("sin(x)**2 + log(y, 2)").children[0], Node("exp", (number(0.7),)))
    tables = node_tables([tree])
    h = layer({k: tables[k] for k in TABLE_KEYS}).numpy()[0]
    for side, root in zip(tree.children, ("lhs_root", "rhs_root")):
        ref, _ = _numpy_node(layer, side)
        np.testing.assert_allclose(h[tables[root][0]], ref, rtol=1e-5, atol=1e-6)


def test_level_batched_result_equals_the_per_tree_loop():
    examples = generate_identities(2, depths=(1, 3, 5), seed=0, prove=False)
    examples += function_evaluations(4, seed=0, encoding="raw")
    tables = node_tables([e.tree for e in examples])
    layer = _layer(hidden=6, seed=1)
    h = layer({k: tables[k] for k in TABLE_KEYS}).numpy()
    for i in range(len(examples)):
        row = {k: tables[k][i] for k in TABLE_KEYS}
        for root in ("lhs_root", "rhs_root"):
            ref = per_node_states(layer, row, row[root])
            np.testing.assert_allclose(h[i, row[root]], ref, rtol=1e-5, atol=1e-6)


def test_gradients_reach_only_the_cells_of_functions_present():
    layer = _layer(hidden=4)
    tables = node_tables([parse_infix("sin(x) = cos(x)")])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer({k: tables[k] for k in TABLE_KEYS}))
    grad = tape.gradient(loss, layer.cell_kernel)
    per_function = np.abs(tf.convert_to_tensor(grad).numpy()).sum(axis=(1, 2))
    used = {SYMBOL_ID["sin"] - 1, SYMBOL_ID["cos"] - 1}
    assert [f for f in range(len(FUNCTIONS)) if per_function[f] > 0] == sorted(used)


def test_a_tree_higher_than_max_height_is_refused_not_left_at_zero():
    tables = node_tables([parse_infix("sin(cos(tan(x))) = x")])
    inputs = {k: tables[k] for k in TABLE_KEYS}
    assert _layer(max_height=3)(inputs).shape == (1, tables["symbol"].shape[1], 4)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"higher than .*max_height=2"):
        _layer(max_height=2)(inputs)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"contiguous range of ids >= 1; got \[1, 3\]"):
        TreeLSTM(10, [1, 3])
    with pytest.raises(ValueError, match=r"dropout=1.0 must be in \[0, 1\)"):
        _layer(dropout=1.0)
