"""Level-ordered node tables and token sequences: equations as fixed-shape arrays for tf.data.

A node table holds the nodes of both sides of an ``Equality`` (the root itself is not a
node: the tasks combine the two side roots), sorted by height (leaves first), padded to
``max_nodes``:

* ``symbol``: int32 ``[M]``, :data:`tfless.data.symbolic.SYMBOL_ID` (0 = padding);
* ``left`` / ``right``: int32 ``[M]``, positions of the children in the table (-1: none;
  unary functions have no right child);
* ``height``: int32 ``[M]``, 0 for leaves, ``1 + max(child heights)`` else, -1 for padding;
* ``value``: float32 ``[M]``, the value of raw ``Number`` leaves (0 elsewhere);
* ``lhs_root`` / ``rhs_root``: int32 scalars, positions of the two side roots.

Children always come before their parent, and all nodes of one height can be computed at
once: :class:`tfless.layers.tree_lstm.TreeLSTM` runs one fused step per height for a whole
batch. Token sequences (for the sequence-LSTM baseline) are the prefix tokens of each side.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfless.data.symbolic import MAX_DEPTH, NUMBER, SYMBOL_ID, Node, sides

TABLE_KEYS = ("symbol", "left", "right", "height", "value", "lhs_root", "rhs_root")
SEQUENCE_KEYS = ("lhs_tokens", "lhs_values", "rhs_tokens", "rhs_values")


def _postorder(root: Node, out: list) -> int:
    """Appends ``(symbol id, value, child positions, height)`` in post-order; returns the
    position of ``root``."""
    stack = [(root, False)]
    positions = []
    while stack:
        node, expanded = stack.pop()
        if not expanded:
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(node.children))
            continue
        kids = [positions.pop() for _ in node.children][::-1]
        height = 1 + max(out[k][3] for k in kids) if kids else 0
        value = node.value if node.symbol == NUMBER else 0.0
        out.append((SYMBOL_ID[node.symbol], value, kids, height))
        positions.append(len(out) - 1)
    return positions[0]


def node_table(tree: Node, max_nodes: int, max_depth: int = MAX_DEPTH) -> dict:
    """The level-ordered table of an ``Equality`` tree (module docstring), as NumPy arrays.

    Raises:
      ValueError: a side deeper than ``max_depth`` (naming its depth) or more than
        ``max_nodes`` nodes on the two sides (naming the count).
    """
    lhs, rhs = sides(tree)
    for name, side in (("left", lhs), ("right", rhs)):
        if side.depth > max_depth:
            raise ValueError(
                f"The {name} side has depth {side.depth}, above the configured limit "
                f"max_depth={max_depth}: {tree.prefix()!r}."
            )
    rows: list = []
    roots = [_postorder(lhs, rows), _postorder(rhs, rows)]
    if len(rows) > max_nodes:
        raise ValueError(
            f"The equation has {len(rows)} nodes, above max_nodes={max_nodes}: {tree.prefix()!r}."
        )
    order = sorted(range(len(rows)), key=lambda i: rows[i][3])  # stable: level order
    where = {old: new for new, old in enumerate(order)}
    table = {
        "symbol": np.zeros(max_nodes, np.int32),
        "left": np.full(max_nodes, -1, np.int32),
        "right": np.full(max_nodes, -1, np.int32),
        "height": np.full(max_nodes, -1, np.int32),
        "value": np.zeros(max_nodes, np.float32),
    }
    for new, old in enumerate(order):
        sym, value, kids, height = rows[old]
        table["symbol"][new], table["value"][new], table["height"][new] = sym, value, height
        for key, kid in zip(("left", "right"), kids):
            table[key][new] = where[kid]
    table["lhs_root"] = np.int32(where[roots[0]])
    table["rhs_root"] = np.int32(where[roots[1]])
    return table


def side_sizes(trees) -> int:
    """The largest node count of the two sides of any tree (a ``max_nodes`` that fits all)."""
    return max(sides(t)[0].size + sides(t)[1].size for t in trees)


def node_tables(trees, max_nodes: int | None = None, max_depth: int = MAX_DEPTH) -> dict:
    """Stacked :func:`node_table` of every tree: arrays ``[N, M]`` (roots ``[N]``)."""
    trees = list(trees)
    max_nodes = max_nodes or side_sizes(trees)
    tables = [node_table(t, max_nodes, max_depth) for t in trees]
    return {k: np.stack([t[k] for t in tables]) for k in TABLE_KEYS}


def _side_tokens(side: Node, max_len: int, text: str):
    tokens, values = [], []
    for _, n in side.subtrees():
        tokens.append(SYMBOL_ID[n.symbol])
        values.append(n.value if n.symbol == NUMBER else 0.0)
    if len(tokens) > max_len:
        raise ValueError(f"A side has {len(tokens)} tokens, above max_len={max_len}: {text!r}.")
    pad = max_len - len(tokens)
    return tokens + [0] * pad, values + [0.0] * pad


def token_sequences(trees, max_len: int | None = None) -> dict:
    """Prefix token ids (``[N, T]``, 0-padded) and raw number values of both sides."""
    trees = list(trees)
    max_len = max_len or max(max(s.size for s in sides(t)) for t in trees)
    out = {k: [] for k in SEQUENCE_KEYS}
    for t in trees:
        for name, side in zip(("lhs", "rhs"), sides(t)):
            tokens, values = _side_tokens(side, max_len, t.prefix())
            out[f"{name}_tokens"].append(tokens)
            out[f"{name}_values"].append(values)
    return {
        k: np.asarray(v, np.int32 if k.endswith("tokens") else np.float32) for k, v in out.items()
    }


def example_arrays(examples, kind: str = "tree", size: int | None = None) -> dict:
    """Arrays of labelled examples: tables (``kind="tree"``) or sequences (``"sequence"``)
    plus ``label`` (float32 0/1) and ``target`` (float32, NaN for identities)."""
    if kind not in ("tree", "sequence"):
        raise ValueError(f"kind={kind!r}; expected 'tree' or 'sequence'.")
    trees = [e.tree for e in examples]
    arrays = node_tables(trees, size) if kind == "tree" else token_sequences(trees, size)
    arrays["label"] = np.asarray([float(e.label) for e in examples], np.float32)
    arrays["target"] = np.asarray(
        [np.nan if e.target is None else e.target for e in examples], np.float32
    )
    return arrays


def symbolic_dataset(
    examples,
    batch_size: int,
    kind: str = "tree",
    size: int | None = None,
    shuffle: bool = False,
    seed: int = 0,
) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of dict batches of :func:`example_arrays` (for ``fit``)."""
    arrays = example_arrays(examples, kind, size)
    ds = tf.data.Dataset.from_tensor_slices(arrays)
    if shuffle:
        ds = ds.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size)
