"""Expression trees, identity generation checked by sympy, numeric equations, node tables."""

import json
import os
from collections import Counter

import numpy as np
import pytest
import sympy

from tfless.data import symbolic_generate as gen
from tfless.data.symbolic import (
    MAX_ABS_NUMBER,
    NUMBER,
    SYMBOL_ID,
    UNARY_FUNCTIONS,
    VARIABLES,
    Node,
    decimal_tree,
    equation,
    leaf,
    number,
    parse_prefix,
    sides,
)
from tfless.data.symbolic_axioms import AXIOM_STRINGS, seed_axioms
from tfless.data.symbolic_check import (
    evaluate,
    from_sympy,
    label_identity,
    parse_infix,
    random_points,
    to_sympy,
)
from tfless.data.symbolic_tables import node_table, node_tables, token_sequences


@pytest.fixture(scope="module")
def proved_sample():
    """A tiny balanced sample labelled with sympy's simplification (the slow path)."""
    return gen.generate_identities(2, depths=(1, 2, 3), seed=3, prove=True)


# ------------------------------------------------------------------ grammar and strings
def test_grammar_sizes_match_the_paper():
    assert len(UNARY_FUNCTIONS) == 25
    assert set(SYMBOL_ID) >= {"Add", "Mul", "Pow", "log", "Equality", "pi", "E", "1/2", "-1"}


def test_prefix_round_trip_of_axioms_numbers_and_raw_values():
    trees = list(seed_axioms()) + [
        equation(Node("sin", (decimal_tree(-3.14),)), decimal_tree(0.0)),
        equation(Node("exp", (number(0.44),)), number(-1.5)),
    ]
    for tree in trees:
        assert parse_prefix(tree.prefix()) == tree
    assert seed_axioms()[0].prefix() == "Equality Add Pow sin x 2 Pow cos x 2 1"
    assert parse_prefix("Equality exp num=0.44 num=-1.5").children[1].value == -1.5


@pytest.mark.parametrize(
    "text, match",
    [
        ("Add x foo", r"Unknown symbol 'foo' at position 2"),
        ("Add x", r"'Add' at position 0 takes 2 argument\(s\) but the string ends after 1"),
        ("sin x y", r"Tokens left over at position 2 \('y'\)"),
        ("Add Equality x x 1", r"'Equality' at position 1 .* may only be the root"),
        ("exp num=abc", r"Malformed number token 'num=abc' at position 1"),
        ("exp num=5000", r"Number value 5000.0 cannot be encoded"),
        ("   ", r"Empty expression string"),
    ],
)
def test_malformed_strings_are_refused_naming_the_token(text, match):
    with pytest.raises(ValueError, match=match):
        parse_prefix(text)


def test_too_deep_trees_and_bad_nodes_are_refused():
    deep = "sin " * 8 + "x"
    assert parse_prefix(deep, max_depth=8).depth == 8
    with pytest.raises(ValueError, match=r"depth 8 exceeds the configured limit max_depth=7"):
        parse_prefix(deep, max_depth=7)
    with pytest.raises(ValueError, match=r"'sin' takes 1 argument\(s\), got 2"):
        Node("sin", (leaf("x"), leaf("y")))
    with pytest.raises(ValueError, match=r"Unknown symbol 'sqrt'"):
        Node("sqrt", (leaf("x"),))
    with pytest.raises(ValueError, match=r"Number value inf cannot be encoded.*\[-1000, 1000\]"):
        number(float("inf"))
    with pytest.raises(ValueError, match=r"variable 'w'"):
        from_sympy(sympy.Symbol("w"))
    with pytest.raises(ValueError, match=r"Function 'Max'"):
        from_sympy(sympy.Max(sympy.Symbol("x"), sympy.Symbol("y"), evaluate=False))
    with pytest.raises(ValueError, match=r"The number 17 is not in the grammar"):
        from_sympy(sympy.Integer(17))


def test_decimal_trees_have_the_value_they_encode():
    assert decimal_tree(2.5).prefix() == "Add Mul 2 Pow 10 0 Mul 5 Pow 10 -1"
    for v in (2.5, -3.14, 0.07, 10.02, 0.0, 999.99, -0.5):
        assert to_sympy(decimal_tree(v)) == sympy.Rational(round(v * 100), 100)
    with pytest.raises(ValueError, match=r"Number 1000.0 cannot be written as a decimal tree"):
        decimal_tree(1000.0)
    assert MAX_ABS_NUMBER == 1000.0


def test_infix_to_tree_binarizes_and_keeps_the_written_form():
    tree = parse_infix("x + y + z = log(x)")
    assert tree.prefix() == "Equality Add x Add y z log x E"
    assert from_sympy(to_sympy(tree)) == tree


# ------------------------------------------------------------------ checking identities
def test_numpy_evaluation_matches_sympy_for_every_function():
    rng = np.random.default_rng(0)
    points = random_points(rng, 3)
    x = sympy.Symbol("x")
    for f in UNARY_FUNCTIONS + ("Add", "Mul", "Pow", "log"):
        tree = Node(f, (leaf("x"),)) if f in UNARY_FUNCTIONS else Node(f, (leaf("x"), leaf("2")))
        ours = evaluate(tree, points)
        expr = to_sympy(tree)
        for k in range(3):
            ref = complex(sympy.N(expr.subs(x, complex(points["x"][k])), 30))
            assert abs(ours[k] - ref) <= 1e-9 * max(1.0, abs(ref)), (f, ours[k], ref)


def test_every_seed_axiom_is_a_true_identity():
    rng = np.random.default_rng(0)
    labels = [label_identity(t, rng, prove=False) for t in seed_axioms()]
    assert len(AXIOM_STRINGS) == len(labels) == 89
    assert all(lab == (True, "numeric") for lab in labels)
    assert label_identity(parse_infix("log(x*y) = log(x) + log(y)"), rng) == (
        False,
        "counterexample",
    )


def _sympy_differs(tree, rng, points=6):
    """Independent re-check with sympy's own arbitrary-precision evaluation."""
    lhs, rhs = (to_sympy(s) for s in sides(tree))
    diffs = []
    for _ in range(points):
        subs = {sympy.Symbol(v): complex(p[0]) for v, p in random_points(rng, 1).items()}
        a, b = complex(sympy.N(lhs.subs(subs), 20)), complex(sympy.N(rhs.subs(subs), 20))
        if np.isfinite(a) and np.isfinite(b):
            diffs.append(abs(a - b) / max(1.0, abs(a), abs(b)))
    return max(diffs) > 1e-6, len(diffs)


def test_every_generated_identity_is_rechecked_by_sympy(proved_sample):
    rng = np.random.default_rng(123)
    assert {e.how for e in proved_sample} <= {"simplify", "numeric", "counterexample"}
    for e in proved_sample:
        if e.how == "simplify":
            lhs, rhs = (to_sympy(s) for s in sides(e.tree))
            assert sympy.simplify(lhs - rhs) == 0, e.tree
        differs, finite = _sympy_differs(e.tree, rng)
        assert finite >= 2, e.tree
        assert differs is (not e.label), e.tree


def test_generated_sample_is_balanced_deduplicated_and_depth_controlled(proved_sample):
    counts = Counter((e.depth, e.label) for e in proved_sample)
    assert counts == {(d, lab): 2 for d in (1, 2, 3) for lab in (True, False)}
    keys = [gen._key(e.tree) for e in proved_sample]
    assert len(set(keys)) == len(keys)
    axiom_keys = {gen._key(t) for t in seed_axioms()}
    assert not axiom_keys & set(keys)
    fast = gen.generate_identities(5, depths=(5, 6, 7), seed=1, prove=False)
    assert Counter(e.depth for e in fast) == {5: 10, 6: 10, 7: 10}
    with pytest.raises(ValueError, match=r"depths \[0, 8\] must lie in 1..max_depth=7"):
        gen.generate_identities(1, depths=(0, 8))


def test_cache_is_keyed_by_the_settings_hash(tmp_path, monkeypatch):
    first = gen.cached_identities(str(tmp_path), per_class_per_depth=2, depths=[1], prove=False)
    (path,) = tmp_path.iterdir()
    assert gen.settings_hash({"per_class_per_depth": 2, "depths": [1], "prove": False}) in path.name
    assert json.loads(path.read_text())["settings"]["depths"] == [1]
    monkeypatch.setattr(gen, "generate_identities", lambda **_: pytest.fail("regenerated"))
    again = gen.cached_identities(str(tmp_path), per_class_per_depth=2, depths=[1], prove=False)
    assert again == first
    assert gen.settings_hash({"seed": 1}) != gen.settings_hash({"seed": 2})
    assert not [p for p in os.listdir(tmp_path) if ".tmp" in p]


# ------------------------------------------------------------------ numeric data, splits
@pytest.mark.parametrize("encoding", ["decimal", "raw"])
def test_function_evaluations_are_labelled_by_their_value(encoding):
    examples = gen.function_evaluations(40, seed=0, encoding=encoding)
    assert [e.label for e in examples] == [True, False] * 20
    for e in examples:
        lhs, rhs = sides(e.tree)
        value = complex(evaluate(lhs, {"x": np.zeros(1)})[0]).real
        assert value == pytest.approx(e.target, rel=1e-9, abs=1e-9)
        b = complex(evaluate(rhs, {"x": np.zeros(1)})[0]).real
        assert (abs(b - round(e.target, 2)) < 1e-9) is e.label
        numbers = [n for _, n in e.tree.subtrees() if n.symbol == NUMBER]
        assert bool(numbers) is (encoding == "raw")
    with pytest.raises(ValueError, match=r"encoding='binary'"):
        gen.function_evaluations(2, encoding="binary")


def test_depth_splits():
    examples = gen.generate_identities(4, depths=(1, 2, 3, 4), seed=0, prove=False)
    split = gen.depth_split(examples, "train134_test2", test_fraction=0.25)
    assert {e.depth for e in split["train"] + split["test_seen"]} == {1, 3, 4}
    assert {e.depth for e in split["test_unseen"]} == {2}
    assert len(split["test_seen"]) == 6 and len(split["train"]) == 18
    assert not {e.tree for e in split["train"]} & {e.tree for e in split["test_seen"]}
    unseen = gen.depth_split(examples, "unseen_1to4")
    assert unseen["test_unseen"] == [] and len(unseen["test_seen"]) == 6
    with pytest.raises(ValueError, match=r"Unknown split 'train12'"):
        gen.depth_split(examples, "train12")


def test_completion_problems_mark_the_blanked_subtree_correct():
    examples = gen.generate_identities(6, depths=(2, 3), seed=0, prove=False)
    problems = gen.completion_problems(examples, num_candidates=5, seed=0)
    assert problems
    for p in problems:
        assert p.correct[p.answer] and p.filled[p.answer].tree == p.original
        assert len(set(p.candidates)) == 5
        assert all(1 <= c.depth <= 2 for c in p.candidates)


# ------------------------------------------------------------------ node tables
def test_node_tables_are_level_ordered_with_children_first():
    tree = parse_infix("sin(x)**2 + cos(x)**2 = 1")
    table = node_table(tree, max_nodes=12)
    height, left, right = table["height"], table["left"], table["right"]
    assert list(height) == [0, 0, 0, 0, 0, 1, 1, 2, 2, 3, -1, -1]
    for i in range(10):
        for kid in (left[i], right[i]):
            if kid >= 0:
                assert height[kid] < height[i]
    assert table["symbol"][table["lhs_root"]] == SYMBOL_ID["Add"]
    assert table["symbol"][table["rhs_root"]] == SYMBOL_ID["1"]
    assert right[table["symbol"] == SYMBOL_ID["sin"]] == -1  # unary: no right child
    assert (table["symbol"][10:] == 0).all()
    raw = node_tables([equation(Node("exp", (number(0.25),)), leaf("x"))])
    assert raw["value"][0].tolist() == [0.25, 0.0, 0.0]


def test_tables_and_sequences_refuse_oversized_trees():
    tree = parse_infix("sin(x)**2 + cos(x)**2 = 1")
    with pytest.raises(ValueError, match=r"has 10 nodes, above max_nodes=8"):
        node_table(tree, max_nodes=8)
    with pytest.raises(ValueError, match=r"left side has depth 3, above .* max_depth=2"):
        node_table(tree, max_nodes=12, max_depth=2)
    seq = token_sequences([tree])
    assert seq["lhs_tokens"].shape == (1, 9)
    assert seq["lhs_tokens"][0, 0] == SYMBOL_ID["Add"] and seq["rhs_tokens"][0, 1] == 0
    with pytest.raises(ValueError, match=r"A side has 9 tokens, above max_len=4"):
        token_sequences([tree], max_len=4)
    assert VARIABLES == ("x", "y", "z")


def test_shuffled_batches_keep_every_label_with_its_own_tree():
    from tfless.data.symbolic_tables import symbolic_dataset

    examples = gen.generate_identities(3, depths=(1, 2), seed=2, prove=False)
    truth = {e.tree.prefix(): float(e.label) for e in examples}
    assert 0 < sum(truth.values()) < len(truth)
    for kind in ("tree", "sequence"):
        ds = symbolic_dataset(examples, 5, kind, shuffle=True, seed=3)
        keys = ("symbol", "lhs_root") if kind == "tree" else ("lhs_tokens", "rhs_tokens")
        seen = []
        for batch in ds:
            for i, label in enumerate(batch["label"].numpy()):
                seen.append((tuple(np.asarray(batch[keys[0]][i]).ravel()), batch[keys[1]][i]))
                assert label in (0.0, 1.0)
        assert len(seen) == len(examples)
    # The table of each example, wherever shuffling puts it, carries that example's label.
    arrays = {e.tree.prefix(): node_table(e.tree, 40) for e in examples}
    ds = symbolic_dataset(examples, 4, "tree", size=40, shuffle=True, seed=5)
    order = [e.tree.prefix() for e in examples]
    for batch in ds:
        for i, label in enumerate(batch["label"].numpy()):
            row = batch["symbol"][i].numpy()
            match = [
                p
                for p in order
                if (arrays[p]["symbol"] == row).all()
                and arrays[p]["lhs_root"] == int(batch["lhs_root"][i])
            ]
            assert match and {truth[p] for p in match} == {float(label)}
