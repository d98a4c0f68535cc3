"""Generating labelled identities from the seed axioms, numeric equations, depth splits.

Identities (:func:`generate_identities`), as Arabshahi, Singh, Anandkumar (ICLR 2018,
arXiv 1801.04342) generate them: a known-true equation is changed by one random local
edit and the candidate is labelled by :func:`tfless.data.symbolic_check.label_identity`.
The edits:

* ``shrink``: a node is replaced by one of its children;
* ``replace``: a node's symbol is swapped for another of the same arity;
* ``grow``: a node is wrapped in a random unary function, or in ``Add``/``Mul``/``Pow``
  with a random terminal as the other argument;
* ``both_sides``: the same function is applied to both sides (``f(l) = f(r)``,
  ``l + t = r + t``, ...);
* ``substitute``: a variable is replaced everywhere by a small expression (an instance of
  the identity).

One-sided edits mostly break the identity (negatives); the last two keep it (positives).
Candidates deeper than ``max_depth`` or already seen (either orientation) are dropped, and
the result is balanced: as many true as false identities at every depth. True identities
join the pool that later edits start from, so depth grows step by step.

Numeric equations (:func:`function_evaluations`): ``f(a) = b`` with ``a`` a 2-decimal
value in [-3.14, 3.14] and ``b = f(a)`` rounded to 2 decimals, numbers written as decimal
trees (:func:`tfless.data.symbolic.decimal_tree`) or as raw ``Number`` leaves.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import signal
import threading
import time

import numpy as np

from tfless.data.symbolic import (
    INTEGERS,
    MAX_DEPTH,
    RATIONALS,
    UNARY_FUNCTIONS,
    VARIABLES,
    Node,
    decimal_tree,
    equation,
    equation_depth,
    leaf,
    number,
    parse_prefix,
    sides,
)
from tfless.data.symbolic_axioms import AXIOM_STRINGS, seed_axioms
from tfless.data.symbolic_check import evaluate, label_identity, numeric_label

#: Bump when the generator's behaviour changes: it is part of the cache key.
GENERATOR_VERSION = 1
EDITS = ("shrink", "replace", "grow", "both_sides", "substitute")
_SMALL_TERMINALS = VARIABLES + ("pi", "E", "-1", "0", "1", "2", "3", "1/2")
_GROW_BINARY = ("Add", "Mul", "Pow")


@dataclasses.dataclass(frozen=True)
class Example:
    """A labelled equation: ``tree`` is an ``Equality``; ``how`` says what decided the label
    (``simplify``, ``numeric``, ``counterexample``, ``axiom``, ``evaluation``); ``target`` is
    the exact value of a numeric equation's left side (``None`` for identities)."""

    tree: Node
    label: bool
    how: str
    target: float | None = None

    @property
    def depth(self) -> int:
        """:func:`tfless.data.symbolic.equation_depth` of the tree."""
        return equation_depth(self.tree)

    def to_json(self) -> dict:
        return {
            "prefix": self.tree.prefix(),
            "label": self.label,
            "how": self.how,
            "target": self.target,
        }

    @classmethod
    def from_json(cls, d: dict) -> Example:
        return cls(parse_prefix(d["prefix"]), bool(d["label"]), d["how"], d.get("target"))


def _random_terminal(rng) -> Node:
    return leaf(_SMALL_TERMINALS[rng.integers(len(_SMALL_TERMINALS))])


def _random_wrap(node: Node, rng) -> Node:
    if rng.random() < 0.5:
        return Node(UNARY_FUNCTIONS[rng.integers(len(UNARY_FUNCTIONS))], (node,))
    symbol = _GROW_BINARY[rng.integers(len(_GROW_BINARY))]
    other = _random_terminal(rng)
    return Node(symbol, (node, other) if rng.random() < 0.5 else (other, node))


def _same_arity_symbol(node: Node, rng) -> str:
    if node.symbol in UNARY_FUNCTIONS:
        pool = UNARY_FUNCTIONS
    elif node.children:
        pool = _GROW_BINARY + ("log",)
    else:
        pool = _SMALL_TERMINALS + INTEGERS[4:9] + RATIONALS
    choices = [s for s in pool if s != node.symbol]
    return choices[rng.integers(len(choices))]


def _one_sided(tree: Node, edit: str, rng) -> Node | None:
    nodes = [(p, n) for p, n in tree.subtrees() if p]  # never the Equality root
    if edit == "shrink":
        nodes = [(p, n) for p, n in nodes if n.children]
        if not nodes:
            return None
    path, node = nodes[rng.integers(len(nodes))]
    if edit == "shrink":
        return tree.replace(path, node.children[rng.integers(len(node.children))])
    if edit == "replace":
        return tree.replace(path, Node(_same_arity_symbol(node, rng), node.children))
    return tree.replace(path, _random_wrap(node, rng))  # grow


def _substitute(node: Node, var: str, new: Node) -> Node:
    if node.symbol == var:
        return new
    if not node.children:
        return node
    return Node(node.symbol, tuple(_substitute(c, var, new) for c in node.children))


def propose(tree: Node, rng: np.random.Generator) -> Node | None:
    """One random local edit of an ``Equality`` tree (see the module docstring)."""
    edit = EDITS[rng.integers(len(EDITS))]
    if edit in ("shrink", "replace", "grow"):
        return _one_sided(tree, edit, rng)
    lhs, rhs = sides(tree)
    if edit == "both_sides":
        if rng.random() < 0.5:
            f = UNARY_FUNCTIONS[rng.integers(len(UNARY_FUNCTIONS))]
            return equation(Node(f, (lhs,)), Node(f, (rhs,)))
        f, t = _GROW_BINARY[rng.integers(3)], _random_terminal(rng)
        return equation(Node(f, (lhs, t)), Node(f, (rhs, t)))
    present = sorted({n.symbol for _, n in tree.subtrees() if n.symbol in VARIABLES})
    if not present:
        return None
    var = present[rng.integers(len(present))]
    new = _random_wrap(_random_terminal(rng), rng) if rng.random() < 0.5 else _random_terminal(rng)
    return equation(_substitute(lhs, var, new), _substitute(rhs, var, new))


def _key(tree: Node) -> str:
    lhs, rhs = sides(tree)
    return min(equation(lhs, rhs).prefix(), equation(rhs, lhs).prefix())


class _Timeout(Exception):
    pass


def _label_with_timeout(tree: Node, rng, prove: bool, timeout: float):
    """``label_identity`` with ``sympy.simplify`` interrupted after ``timeout`` seconds (main
    thread only: elsewhere it runs unbounded); an interrupted proof falls back to numeric."""
    if not prove or timeout <= 0 or threading.current_thread() is not threading.main_thread():
        return label_identity(tree, rng, prove=prove)

    def _raise(*_):
        raise _Timeout()

    state = rng.bit_generator.state
    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return label_identity(tree, rng, prove=True)
    except _Timeout:
        rng.bit_generator.state = state  # the same points as the unproved check
        return label_identity(tree, rng, prove=False)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def generate_identities(
    per_class_per_depth: int,
    depths=(1, 2, 3, 4),
    seed: int = 0,
    max_depth: int = MAX_DEPTH,
    prove: bool = True,
    simplify_timeout: float = 2.0,
    patience: int = 20_000,
) -> list[Example]:
    """Balanced labelled identities: ``per_class_per_depth`` true and as many false ones at
    every depth in ``depths`` (fewer when ``patience`` candidates in a row add nothing).

    Seed axioms are not returned (they are the starting pool). ``prove=False`` skips sympy's
    simplification (labels then rest on the numeric check alone), much faster.

    Raises:
      ValueError: a depth outside 1..max_depth, or ``per_class_per_depth < 1``.
    """
    bad = [d for d in depths if not 1 <= d <= max_depth]
    if bad or per_class_per_depth < 1:
        raise ValueError(
            f"depths {list(depths)} must lie in 1..max_depth={max_depth} (bad: {bad}) and "
            f"per_class_per_depth={per_class_per_depth} must be >= 1."
        )
    rng = np.random.default_rng(seed)
    pool = list(seed_axioms())
    seen = {_key(t) for t in pool}
    found = {(d, lab): [] for d in depths for lab in (True, False)}
    idle = 0
    while idle < patience and any(len(v) < per_class_per_depth for v in found.values()):
        idle += 1
        cand = propose(pool[rng.integers(len(pool))], rng)
        if cand is None or equation_depth(cand) > max_depth or _key(cand) in seen:
            continue
        seen.add(_key(cand))
        depth = equation_depth(cand)
        want = [k for k in found if k[0] == depth and len(found[k]) < per_class_per_depth]
        if not want:
            continue  # its bins are full: skip the expensive label
        label, how = _label_with_timeout(cand, rng, prove, simplify_timeout)
        if label is None:
            continue
        if label:
            pool.append(cand)
        bin_ = found.get((depth, label))
        if bin_ is not None and len(bin_) < per_class_per_depth:
            bin_.append(Example(cand, label, how))
            idle = 0
    out = []
    for d in depths:
        n = min(len(found[(d, True)]), len(found[(d, False)]))
        out += found[(d, True)][:n] + found[(d, False)][:n]
    return out


def _real_value(f: str, a: float, c: float | None) -> float:
    tree = Node(f, (number(a),)) if c is None else Node(f, (number(a), number(c)))
    value = complex(evaluate(tree, {"x": np.zeros(1)})[0])
    return value.real if abs(value.imag) < 1e-12 else math.nan


def _encode(value: float, encoding: str) -> Node:
    return decimal_tree(value) if encoding == "decimal" else number(value)


def function_evaluations(
    count: int,
    seed: int = 0,
    functions=UNARY_FUNCTIONS + ("Add", "Mul", "Pow"),
    encoding: str = "decimal",
    negatives: bool = True,
    max_abs: float = 100.0,
) -> list[Example]:
    """``count`` numeric equations ``f(a) = b`` (half false when ``negatives``).

    ``a`` (and a second argument for ``Add``/``Mul``/``Pow``) is uniform on the 2-decimal
    grid of [-3.14, 3.14] (``Pow`` takes a positive base); ``b = f(a)`` rounded to 2
    decimals, kept when real, finite and ``|b| <= max_abs``. A false equation replaces
    ``b`` by another value at least 0.1 away. ``target`` keeps the exact ``f(a)``.

    Raises:
      ValueError: an unknown ``encoding`` (``"decimal"`` or ``"raw"``) or function.
    """
    if encoding not in ("decimal", "raw"):
        raise ValueError(f"encoding={encoding!r}; expected 'decimal' or 'raw'.")
    unknown = [f for f in functions if f not in UNARY_FUNCTIONS + ("Add", "Mul", "Pow")]
    if unknown:
        raise ValueError(
            f"Cannot evaluate functions {unknown}: expected unary functions or Add, Mul, Pow."
        )
    rng = np.random.default_rng(seed)
    out, tries = [], 0
    while len(out) < count and tries < 100 * count:
        tries += 1
        f = functions[rng.integers(len(functions))]
        a = round(float(rng.integers(-314, 315)) / 100, 2)
        c = None if f in UNARY_FUNCTIONS else round(float(rng.integers(-314, 315)) / 100, 2)
        if f == "Pow":
            a = abs(a) or 1.0
        value = _real_value(f, a, c)
        if not math.isfinite(value) or abs(value) > max_abs:
            continue
        label = not negatives or len(out) % 2 == 0
        b = round(value, 2)
        if not label:
            b = round(b + float(rng.choice([-1, 1])) * float(rng.uniform(0.1, 2.0)), 2)
        args = (
            (_encode(a, encoding),) if c is None else (_encode(a, encoding), _encode(c, encoding))
        )
        out.append(
            Example(equation(Node(f, args), _encode(b, encoding)), label, "evaluation", value)
        )
    return out


#: Named depth splits of the paper's generalization study.
SPLITS = {
    "unseen_1to4": ((1, 2, 3, 4), (1, 2, 3, 4)),
    "train123_test4": ((1, 2, 3), (4,)),
    "train134_test2": ((1, 3, 4), (2,)),
}


def depth_split(examples, split: str, test_fraction: float = 0.2, seed: int = 0) -> dict:
    """``{"train", "test_seen", "test_unseen"}`` lists of ``examples`` for a named split.

    ``test_seen`` holds ``test_fraction`` of the identities at training depths (never in
    ``train``); ``test_unseen`` all identities at the split's test depths that are not
    training depths (empty for ``unseen_1to4``, whose test is ``test_seen``).

    Raises:
      ValueError: an unknown split name, naming the known ones.
    """
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; expected one of {sorted(SPLITS)}.")
    train_depths, test_depths = SPLITS[split]
    rng = np.random.default_rng(seed)
    seen = [e for e in examples if e.depth in train_depths]
    order = rng.permutation(len(seen))
    n_test = int(round(test_fraction * len(seen)))
    return {
        "train": [seen[i] for i in order[n_test:]],
        "test_seen": [seen[i] for i in order[:n_test]],
        "test_unseen": [
            e for e in examples if e.depth in test_depths and e.depth not in train_depths
        ],
    }


def settings_hash(settings: dict) -> str:
    """sha256 (16 hex digits) of generator settings, the generator version and the axioms."""
    blob = json.dumps(
        {"settings": settings, "version": GENERATOR_VERSION, "axioms": AXIOM_STRINGS},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cached_identities(cache_dir: str, **settings) -> list[Example]:
    """:func:`generate_identities` with ``settings``, read from ``cache_dir`` when a file of
    the same settings hash exists, else generated and written there (atomically)."""
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, f"identities_{settings_hash(settings)}.json")
    if os.path.exists(path):
        with open(path) as f:
            return [Example.from_json(d) for d in json.load(f)["examples"]]
    start = time.perf_counter()
    examples = generate_identities(**settings)
    record = {
        "settings": settings,
        "seconds": time.perf_counter() - start,
        "examples": [e.to_json() for e in examples],
    }
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.replace(tmp, path)
    return examples


@dataclasses.dataclass(frozen=True)
class CompletionProblem:
    """An identity with a blank subtree and candidates: ``filled[i]`` is the equation with
    candidate ``i`` in the blank (labelled true when it is an identity), ``correct[i]`` its
    label; ``answer`` is the index of the subtree that was blanked."""

    original: Node
    path: tuple
    candidates: tuple
    filled: tuple
    correct: tuple
    answer: int


def completion_problems(
    examples, num_candidates: int = 10, blank_depths=(1, 2), seed: int = 0
) -> list[CompletionProblem]:
    """Completion problems from the true identities of ``examples``: a random subtree of
    depth in ``blank_depths`` (the paper's 1-2) is blanked; the candidates are it and
    ``num_candidates - 1`` distinct subtrees of those depths drawn from all identities.
    Every filled equation is labelled by the numeric check, so a candidate equal to the
    answer in value counts as correct too. Identities without such a subtree are skipped.
    """
    rng = np.random.default_rng(seed)
    trees = [e.tree for e in examples if e.label]
    pool = sorted(
        {n for t in trees for p, n in t.subtrees() if p and n.depth in blank_depths},
        key=lambda n: n.prefix(),
    )
    problems = []
    for tree in trees:
        spots = [(p, n) for p, n in tree.subtrees() if p and n.depth in blank_depths]
        if not spots or len(pool) < num_candidates:
            continue
        path, answer = spots[rng.integers(len(spots))]
        others = [n for n in pool if n != answer]
        picks = [others[i] for i in rng.choice(len(others), num_candidates - 1, replace=False)]
        where = int(rng.integers(num_candidates))
        candidates = picks[:where] + [answer] + picks[where:]
        filled, correct = [], []
        for cand in candidates:
            new = tree.replace(path, cand)
            ok = cand == answer or bool(numeric_label(new, rng))
            filled.append(Example(new, ok, "completion"))
            correct.append(ok)
        problems.append(
            CompletionProblem(tree, path, tuple(candidates), tuple(filled), tuple(correct), where)
        )
    return problems
