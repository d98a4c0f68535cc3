"""Expression trees of the symbolic + numeric family: grammar, trees, prefix strings.

The grammar of "Combining Symbolic Expressions and Black-box Function Evaluations in
Neural Programs" (Arabshahi, Singh, Anandkumar, ICLR 2018, arXiv 1801.04342; official
code ForoughA/neuralMath):

* 25 unary functions (:data:`UNARY_FUNCTIONS`): trigonometric, inverse trigonometric,
  hyperbolic, inverse hyperbolic and ``exp``;
* 4 binary functions (:data:`BINARY_FUNCTIONS`): ``Add``, ``Mul``, ``Pow`` and ``log``
  (``log a b`` is the logarithm of ``a`` to the base ``b``);
* the root ``Equality`` (two sides);
* terminals (:data:`TERMINALS`): variables ``x y z``, constants ``pi`` and ``E``, the
  integers -3..10, the rationals ``1/2 -1/2 2/5``; and ``Number`` leaves that carry a raw
  float value (the raw-value number encoder), written ``num=0.44`` in prefix strings.

Every tree is binary. A tree is a :class:`Node`; its prefix string lists the symbols in
pre-order separated by spaces (arity follows from the symbol, so no null markers are
needed): ``Equality Add Pow sin x 2 Pow cos x 2 1`` is sin(x)^2 + cos(x)^2 = 1.

Depth counts edges: a leaf has depth 0, ``Add x 1`` depth 1. The depth of an equation is
that of its deeper side (:func:`equation_depth`: ``Equality Add x 0 x`` has depth 1), which
gives the paper's axiom depths (1..7, at most :data:`MAX_DEPTH`).
"""

from __future__ import annotations

import dataclasses
import math

UNARY_FUNCTIONS = (
    "sin", "cos", "csc", "sec", "tan", "cot",
    "asin", "acos", "acsc", "asec", "atan", "acot",
    "sinh", "cosh", "csch", "sech", "tanh", "coth",
    "asinh", "acosh", "acsch", "asech", "atanh", "acoth",
    "exp",
)  # fmt: skip
BINARY_FUNCTIONS = ("Add", "Mul", "Pow", "log")
ROOT = "Equality"
VARIABLES = ("x", "y", "z")
CONSTANTS = ("pi", "E")
INTEGERS = tuple(str(i) for i in range(-3, 11))
RATIONALS = ("1/2", "-1/2", "2/5")
NUMBER = "Number"
TERMINALS = VARIABLES + CONSTANTS + INTEGERS + RATIONALS
FUNCTIONS = UNARY_FUNCTIONS + BINARY_FUNCTIONS
#: Every symbol a tree node may carry; the index + 1 is its id in node tables (0 = padding).
VOCABULARY = FUNCTIONS + TERMINALS + (NUMBER, ROOT)
SYMBOL_ID = {s: i + 1 for i, s in enumerate(VOCABULARY)}
ARITY = {
    **{s: 1 for s in UNARY_FUNCTIONS},
    **{s: 2 for s in BINARY_FUNCTIONS},
    ROOT: 2,
    **{s: 0 for s in TERMINALS + (NUMBER,)},
}
MAX_DEPTH = 7
_NUMBER_PREFIX = "num="
#: Raw ``Number`` values must lie in this closed interval (the number encoder's input range).
MAX_ABS_NUMBER = 1000.0


@dataclasses.dataclass(frozen=True)
class Node:
    """A node of an expression tree: a symbol, its children, and a value for ``Number``.

    Immutable and hashable, so trees can be deduplicated with sets.
    """

    symbol: str
    children: tuple = ()
    value: float | None = None

    def __post_init__(self):
        if self.symbol not in ARITY:
            raise ValueError(
                f"Unknown symbol {self.symbol!r}; expected a function of {list(FUNCTIONS)}, "
                f"{ROOT!r}, a terminal of {list(TERMINALS)} or {NUMBER!r}."
            )
        if len(self.children) != ARITY[self.symbol]:
            raise ValueError(
                f"{self.symbol!r} takes {ARITY[self.symbol]} argument(s), got {len(self.children)}."
            )
        if self.symbol == NUMBER:
            check_number(self.value)

    @property
    def depth(self) -> int:
        """Edges on the longest root-to-leaf path (a leaf has depth 0)."""
        return 1 + max(c.depth for c in self.children) if self.children else 0

    @property
    def size(self) -> int:
        """Number of nodes."""
        return 1 + sum(c.size for c in self.children)

    def prefix(self) -> str:
        """The pre-order prefix string (:func:`parse_prefix` reads it back)."""
        return " ".join(_tokens(self))

    def subtrees(self):
        """Every node of the tree in pre-order, with its path (child indices from the root)."""
        stack = [((), self)]
        while stack:
            path, node = stack.pop()
            yield path, node
            for i in reversed(range(len(node.children))):
                stack.append((path + (i,), node.children[i]))

    def replace(self, path: tuple, new: Node) -> Node:
        """A copy with the subtree at ``path`` replaced by ``new``."""
        if not path:
            return new
        kids = list(self.children)
        kids[path[0]] = kids[path[0]].replace(path[1:], new)
        return Node(self.symbol, tuple(kids), self.value)

    def __str__(self) -> str:
        return self.prefix()


def check_number(value) -> float:
    """``value`` as a float, or ``ValueError`` naming it when it is not finite and within
    ``[-MAX_ABS_NUMBER, MAX_ABS_NUMBER]``."""
    if value is None or not math.isfinite(float(value)) or abs(float(value)) > MAX_ABS_NUMBER:
        raise ValueError(
            f"Number value {value!r} cannot be encoded: expected a finite float in "
            f"[-{MAX_ABS_NUMBER:g}, {MAX_ABS_NUMBER:g}]."
        )
    return float(value)


def _tokens(node: Node) -> list[str]:
    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(f"{_NUMBER_PREFIX}{n.value!r}" if n.symbol == NUMBER else n.symbol)
        stack.extend(reversed(n.children))
    return out


def leaf(symbol: str) -> Node:
    """A terminal node."""
    return Node(symbol)


def number(value: float) -> Node:
    """A raw ``Number`` leaf carrying ``value``."""
    return Node(NUMBER, (), check_number(value))


def equation(lhs: Node, rhs: Node) -> Node:
    """``Equality(lhs, rhs)``."""
    return Node(ROOT, (lhs, rhs))


def _parse_token(token: str, position: int, text: str) -> tuple[str, float | None]:
    if token.startswith(_NUMBER_PREFIX):
        raw = token[len(_NUMBER_PREFIX) :]
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(
                f"Malformed number token {token!r} at position {position} of {text!r}: "
                f"expected {_NUMBER_PREFIX}<float>."
            ) from None
        return NUMBER, check_number(value)
    if token not in ARITY or token == NUMBER:
        raise ValueError(
            f"Unknown symbol {token!r} at position {position} of {text!r}; expected a "
            f"function of {list(FUNCTIONS)}, {ROOT!r}, a terminal of {list(TERMINALS)} or "
            f"{_NUMBER_PREFIX}<float>."
        )
    return token, None


def parse_prefix(text: str, max_depth: int | None = None) -> Node:
    """The tree of a prefix string (:meth:`Node.prefix`).

    Raises:
      ValueError: an unknown symbol or malformed number (naming the token and its
        position), too few arguments (naming the function left incomplete), tokens left
        over, ``Equality`` below the root, or a tree deeper than ``max_depth`` (naming
        both).
    """
    tokens = text.split()
    if not tokens:
        raise ValueError("Empty expression string: expected prefix tokens such as 'Add x 1'.")
    # Iterative pre-order build: each frame is [symbol, value, children so far, position].
    root_holder: list[Node] = []
    stack: list[list] = []
    for pos, token in enumerate(tokens):
        if not stack and root_holder:
            raise ValueError(
                f"Tokens left over at position {pos} ({token!r}) of {text!r}: the expression "
                f"ended at position {pos - 1}."
            )
        symbol, value = _parse_token(token, pos, text)
        if symbol == ROOT and (stack or pos):
            raise ValueError(f"{ROOT!r} at position {pos} of {text!r}: it may only be the root.")
        stack.append([symbol, value, [], pos])
        while stack and len(stack[-1][2]) == ARITY[stack[-1][0]]:
            sym, val, kids, _ = stack.pop()
            node = Node(sym, tuple(kids), val)
            (stack[-1][2] if stack else root_holder).append(node)
    if stack:
        sym, _, kids, pos = stack[-1]
        raise ValueError(
            f"Malformed expression {text!r}: {sym!r} at position {pos} takes {ARITY[sym]} "
            f"argument(s) but the string ends after {len(kids)}."
        )
    tree = root_holder[0]
    check_depth(tree, max_depth)
    return tree


def check_depth(tree: Node, max_depth: int | None) -> Node:
    """``tree``, or ``ValueError`` naming its depth when it exceeds ``max_depth``."""
    if max_depth is not None and tree.depth > max_depth:
        raise ValueError(
            f"Tree of depth {tree.depth} exceeds the configured limit max_depth={max_depth}: "
            f"{tree.prefix()!r}."
        )
    return tree


def equation_depth(tree: Node) -> int:
    """Depth of the deeper side of an ``Equality`` tree (the tree's depth minus one)."""
    lhs, rhs = sides(tree)
    return max(lhs.depth, rhs.depth)


def sides(tree: Node) -> tuple[Node, Node]:
    """``(lhs, rhs)`` of an ``Equality`` tree; ``ValueError`` for any other root."""
    if tree.symbol != ROOT:
        raise ValueError(f"Expected an {ROOT!r} tree, got root {tree.symbol!r}: {tree.prefix()!r}.")
    return tree.children[0], tree.children[1]


def decimal_tree(value: float, decimals: int = 2, max_exponent: int = 2) -> Node:
    """``value`` as a decimal tree over the grammar's integers.

    2.5 -> ``Add(Mul(2, Pow(10, 0)), Mul(5, Pow(10, -1)))``: one ``digit x 10^k`` term per
    non-zero digit, summed right to left, and ``Mul(-1, .)`` for negatives; 0 is the leaf
    ``0``. The paper's stated representation of numbers ("tree encoding for numbers based on
    their decimal representation"); the exact form is ours.

    Raises:
      ValueError: ``|value|`` rounded to ``decimals`` is ``>= 10**(max_exponent + 1)``,
        ``decimals`` exceeds 3 (exponents below -3 are not in the vocabulary), or the value
        is not finite.
    """
    if not 0 <= decimals <= 3 or not 0 <= max_exponent <= 10:
        raise ValueError(f"decimals={decimals} must be in 0..3 and max_exponent in 0..10.")
    if not math.isfinite(value) or round(abs(value), decimals) >= 10 ** (max_exponent + 1):
        raise ValueError(
            f"Number {value!r} cannot be written as a decimal tree: expected a finite value "
            f"with |value| < {10 ** (max_exponent + 1)} (max_exponent={max_exponent})."
        )
    scaled = round(abs(value) * 10**decimals)
    digits = str(scaled).rjust(decimals + 1, "0")
    terms = []
    for i, d in enumerate(digits):
        exponent = len(digits) - decimals - 1 - i
        if d != "0":
            power = Node("Pow", (leaf("10"), leaf(str(exponent))))
            terms.append(Node("Mul", (leaf(d), power)))
    if not terms:
        return leaf("0")
    tree = terms[-1]
    for term in reversed(terms[:-1]):
        tree = Node("Add", (term, tree))
    return Node("Mul", (leaf("-1"), tree)) if value < 0 else tree


def terminal_value(symbol: str) -> float | complex:
    """The numeric value of a constant terminal (``pi``, ``E``, integers, rationals)."""
    if symbol == "pi":
        return math.pi
    if symbol == "E":
        return math.e
    if "/" in symbol:
        num, den = symbol.split("/")
        return int(num) / int(den)
    return float(int(symbol))
