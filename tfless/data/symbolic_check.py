"""Checking identities: trees to and from sympy, vectorized numeric evaluation, labels.

An identity ``lhs = rhs`` is labelled in two stages (:func:`label_identity`):

1. numeric: both sides are evaluated with NumPy's complex functions (principal branches,
   as sympy's) at random complex points (real and imaginary parts uniform in
   ``[-2, 2]``, one point per variable per draw). A point where both sides are finite and
   differ by more than ``rtol`` is a counterexample: the label is ``False``. Too few
   finite points leave the candidate undecided (``None``; the generator drops it).
2. symbolic: otherwise ``sympy.simplify(lhs - rhs) == 0`` proves it (``"simplify"``); when
   simplification is inconclusive the agreement at every point decides (``"numeric"``).

The counterexample search runs first because it is cheap and settles most candidates;
``simplify`` (the slow step) runs only on the ones that survive it.
"""

from __future__ import annotations

import numpy as np
import sympy

from tfless.data.symbolic import (
    BINARY_FUNCTIONS,
    NUMBER,
    ROOT,
    TERMINALS,
    UNARY_FUNCTIONS,
    VARIABLES,
    Node,
    leaf,
    sides,
    terminal_value,
)

_SYMBOLS = {v: sympy.Symbol(v) for v in VARIABLES}
_SYMPY_UNARY = {name: getattr(sympy, name) for name in UNARY_FUNCTIONS}
_FROM_SYMPY_UNARY = {getattr(sympy, name): name for name in UNARY_FUNCTIONS}


def to_sympy(tree: Node):
    """The sympy expression of a tree (``Equality`` gives ``sympy.Eq`` unevaluated)."""
    s = tree.symbol
    if s in VARIABLES:
        return _SYMBOLS[s]
    if s == "pi":
        return sympy.pi
    if s == "E":
        return sympy.E
    if s == NUMBER:
        return sympy.Float(tree.value)
    if s in TERMINALS:
        return sympy.Rational(s)
    args = [to_sympy(c) for c in tree.children]
    if s in _SYMPY_UNARY:
        return _SYMPY_UNARY[s](args[0])
    if s == "Add":
        return sympy.Add(*args)
    if s == "Mul":
        return sympy.Mul(*args)
    if s == "Pow":
        return sympy.Pow(*args)
    if s == "log":
        return sympy.log(args[0], args[1])
    return sympy.Eq(args[0], args[1], evaluate=False)  # ROOT


def _from_number(expr) -> Node:
    text = str(expr)
    if text in TERMINALS:
        return leaf(text)
    if expr.is_Rational:
        p, q = int(expr.p), int(expr.q)
        if q != 1 and str(p) in TERMINALS and str(q) in TERMINALS:
            return Node("Mul", (leaf(str(p)), Node("Pow", (leaf(str(q)), leaf("-1")))))
    raise ValueError(
        f"The number {text} is not in the grammar's terminals {list(TERMINALS)} and has no "
        "short form p * q^-1 over them."
    )


def _binarize(symbol: str, args: list[Node]) -> Node:
    tree = args[-1]
    for a in reversed(args[:-1]):
        tree = Node(symbol, (a, tree))
    return tree


def from_sympy(expr) -> Node:
    """The binary tree of a sympy expression.

    n-ary ``Add``/``Mul`` nest to the right; a natural ``log(a)`` becomes ``log a E``;
    ``Eq`` becomes the ``Equality`` root.

    Raises:
      ValueError: a symbol, function or number outside the grammar, naming it.
    """
    if isinstance(expr, sympy.Equality):
        return Node(ROOT, (from_sympy(expr.lhs), from_sympy(expr.rhs)))
    if expr.is_Symbol:
        if expr.name not in _SYMBOLS:
            raise ValueError(f"Unknown variable {expr.name!r}; expected one of {VARIABLES}.")
        return leaf(expr.name)
    if expr is sympy.pi:
        return leaf("pi")
    if expr is sympy.E:
        return leaf("E")
    if expr.is_Number:
        return _from_number(expr)
    args = [from_sympy(a) for a in expr.args]
    if expr.func in _FROM_SYMPY_UNARY:
        return Node(_FROM_SYMPY_UNARY[expr.func], (args[0],))
    if expr.func is sympy.log:
        return Node("log", (args[0], args[1] if len(args) > 1 else leaf("E")))
    name = expr.func.__name__
    if name in ("Add", "Mul"):
        return _binarize(name, args)
    if name == "Pow":
        return Node("Pow", tuple(args))
    raise ValueError(
        f"Function {name!r} of {expr} is not in the grammar: expected one of "
        f"{list(UNARY_FUNCTIONS + BINARY_FUNCTIONS)}."
    )


def parse_infix(text: str) -> Node:
    """The tree of an infix string in sympy syntax (``"sin(x)**2 + cos(x)**2 = 1"``), kept
    unevaluated so that the tree is the one written."""
    with sympy.evaluate(False):
        if "=" in text:
            left, right = text.split("=")
            expr = sympy.Eq(sympy.sympify(left), sympy.sympify(right), evaluate=False)
        else:
            expr = sympy.sympify(text)
    return from_sympy(expr)


def _unary_table():
    inv = np.reciprocal
    return {
        "sin": np.sin, "cos": np.cos, "tan": np.tan,
        "csc": lambda z: inv(np.sin(z)), "sec": lambda z: inv(np.cos(z)),
        "cot": lambda z: inv(np.tan(z)),
        "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
        "acsc": lambda z: np.arcsin(inv(z)), "asec": lambda z: np.arccos(inv(z)),
        "acot": lambda z: np.arctan(inv(z)),
        "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
        "csch": lambda z: inv(np.sinh(z)), "sech": lambda z: inv(np.cosh(z)),
        "coth": lambda z: inv(np.tanh(z)),
        "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh,
        "acsch": lambda z: np.arcsinh(inv(z)), "asech": lambda z: np.arccosh(inv(z)),
        "acoth": lambda z: np.arctanh(inv(z)),
        "exp": np.exp,
    }  # fmt: skip


_UNARY_NP = _unary_table()


def evaluate(tree: Node, points: dict) -> np.ndarray:
    """Complex values of ``tree`` at points: ``points[var]`` is a complex array ``[K]``.

    Undefined values (poles, overflow) come out as ``inf``/``nan``, never as errors.
    """
    with np.errstate(all="ignore"):
        return _evaluate(tree, points)


def _evaluate(tree: Node, points: dict) -> np.ndarray:
    s = tree.symbol
    k = len(next(iter(points.values())))
    if s in VARIABLES:
        return np.asarray(points[s], np.complex128)
    if s == NUMBER:
        return np.full(k, tree.value, np.complex128)
    if s in TERMINALS:
        return np.full(k, terminal_value(s), np.complex128)
    args = [_evaluate(c, points) for c in tree.children]
    if s in _UNARY_NP:
        return _UNARY_NP[s](args[0])
    a, b = args
    if s == "Add":
        return a + b
    if s == "Mul":
        return a * b
    if s == "Pow":
        return np.power(a, b)
    return np.log(a) / np.log(b)  # log a to base b


def random_points(rng: np.random.Generator, count: int) -> dict:
    """``count`` random complex points per variable, parts uniform in [-2, 2]."""
    return {v: rng.uniform(-2, 2, count) + 1j * rng.uniform(-2, 2, count) for v in VARIABLES}


def numeric_label(
    tree: Node, rng: np.random.Generator, points: int = 8, rtol: float = 1e-7
) -> bool | None:
    """``False`` on a counterexample, ``True`` when both sides agree at every finite point,
    ``None`` when fewer than half the points are finite on both sides."""
    lhs, rhs = sides(tree)
    at = random_points(rng, points)
    a, b = evaluate(lhs, at), evaluate(rhs, at)
    finite = np.isfinite(a) & np.isfinite(b)
    scale = np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    with np.errstate(all="ignore"):
        differ = finite & (np.abs(a - b) > rtol * scale)
    if differ.any():
        return False
    if finite.sum() < points // 2:
        return None
    return True


def label_identity(tree: Node, rng: np.random.Generator, prove: bool = True):
    """``(label, how)`` for an ``Equality`` tree (see the module docstring).

    ``how`` is ``"counterexample"``, ``"simplify"``, ``"numeric"`` or ``"undecided"``
    (label ``None``). With ``prove=False`` the sympy simplification is skipped and true
    identities are labelled ``"numeric"``.
    """
    label = numeric_label(tree, rng)
    if label is None:
        return None, "undecided"
    if not label:
        return False, "counterexample"
    if prove:
        lhs, rhs = sides(tree)
        try:
            if sympy.simplify(to_sympy(lhs) - to_sympy(rhs)) == 0:
                return True, "simplify"
        except (TypeError, ValueError, ZeroDivisionError, RecursionError):
            pass  # sympy gives up on some expressions; the numeric agreement decides
    return True, "numeric"
