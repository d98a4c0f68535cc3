"""Seed axioms: trigonometric, hyperbolic, inverse-function, exponential and algebraic
identities, written for tfless in sympy's infix syntax.

The paper (Arabshahi, Singh, Anandkumar, ICLR 2018, arXiv 1801.04342) starts from 148
axioms; this shorter list covers the same families. Each one holds for complex arguments
with principal branches (the checker of :mod:`tfless.data.symbolic_check` confirms every
one; a test keeps it so).
"""

from __future__ import annotations

import functools

from tfless.data.symbolic_check import parse_infix

TRIGONOMETRIC = (
    "sin(x)**2 + cos(x)**2 = 1",
    "1 + tan(x)**2 = sec(x)**2",
    "1 + cot(x)**2 = csc(x)**2",
    "tan(x) = sin(x)/cos(x)",
    "cot(x) = cos(x)/sin(x)",
    "csc(x) = 1/sin(x)",
    "sec(x) = 1/cos(x)",
    "cot(x) = 1/tan(x)",
    "sin(-x) = -sin(x)",
    "cos(-x) = cos(x)",
    "tan(-x) = -tan(x)",
    "sin(x + y) = sin(x)*cos(y) + cos(x)*sin(y)",
    "cos(x + y) = cos(x)*cos(y) - sin(x)*sin(y)",
    "sin(x - y) = sin(x)*cos(y) - cos(x)*sin(y)",
    "cos(x - y) = cos(x)*cos(y) + sin(x)*sin(y)",
    "tan(x + y) = (tan(x) + tan(y))/(1 - tan(x)*tan(y))",
    "sin(2*x) = 2*sin(x)*cos(x)",
    "cos(2*x) = cos(x)**2 - sin(x)**2",
    "cos(2*x) = 2*cos(x)**2 - 1",
    "cos(2*x) = 1 - 2*sin(x)**2",
    "sin(pi/2 - x) = cos(x)",
    "cos(pi/2 - x) = sin(x)",
    "sin(x + pi) = -sin(x)",
    "cos(x + pi) = -cos(x)",
    "sin(x + 2*pi) = sin(x)",
    "sin(3*x) = 3*sin(x) - 4*sin(x)**3",
    "cos(3*x) = 4*cos(x)**3 - 3*cos(x)",
    "sin(x)*cos(y) = (sin(x + y) + sin(x - y))/2",
    "cos(x)*cos(y) = (cos(x - y) + cos(x + y))/2",
    "sin(x)*sin(y) = (cos(x - y) - cos(x + y))/2",
    "sin(x)**2 = (1 - cos(2*x))/2",
    "cos(x)**2 = (1 + cos(2*x))/2",
)
HYPERBOLIC = (
    "cosh(x)**2 - sinh(x)**2 = 1",
    "tanh(x) = sinh(x)/cosh(x)",
    "coth(x) = cosh(x)/sinh(x)",
    "csch(x) = 1/sinh(x)",
    "sech(x) = 1/cosh(x)",
    "sinh(x) = (exp(x) - exp(-x))/2",
    "cosh(x) = (exp(x) + exp(-x))/2",
    "sinh(2*x) = 2*sinh(x)*cosh(x)",
    "cosh(2*x) = cosh(x)**2 + sinh(x)**2",
    "sinh(x + y) = sinh(x)*cosh(y) + cosh(x)*sinh(y)",
    "cosh(x + y) = cosh(x)*cosh(y) + sinh(x)*sinh(y)",
    "1 - tanh(x)**2 = sech(x)**2",
    "sinh(-x) = -sinh(x)",
    "cosh(-x) = cosh(x)",
)
INVERSE = (
    "acsc(x) = asin(1/x)",
    "asec(x) = acos(1/x)",
    "acot(x) = atan(1/x)",
    "acsch(x) = asinh(1/x)",
    "asech(x) = acosh(1/x)",
    "acoth(x) = atanh(1/x)",
    "sin(asin(x)) = x",
    "cos(acos(x)) = x",
    "tan(atan(x)) = x",
    "sinh(asinh(x)) = x",
    "cosh(acosh(x)) = x",
    "tanh(atanh(x)) = x",
    "asin(x) + acos(x) = pi/2",
    "asin(-x) = -asin(x)",
    "atan(-x) = -atan(x)",
    "asinh(-x) = -asinh(x)",
    "atanh(-x) = -atanh(x)",
)
EXPONENTIAL = (
    "exp(x + y) = exp(x)*exp(y)",
    "exp(0) = 1",
    "exp(x)*exp(-x) = 1",
    "exp(log(x)) = x",
    "log(x, y) = log(x)/log(y)",
    "log(x, x) = 1",
    "log(1, x) = 0",
    "x**y*x**z = x**(y + z)",
)
ALGEBRA = (
    "x**1 = x",
    "x**0 = 1",
    "x*1 = x",
    "x + 0 = x",
    "x*0 = 0",
    "x + y = y + x",
    "x*y = y*x",
    "(x + y) + z = x + (y + z)",
    "(x*y)*z = x*(y*z)",
    "x*(y + z) = x*y + x*z",
    "(x + y)**2 = x**2 + 2*x*y + y**2",
    "(x - y)*(x + y) = x**2 - y**2",
    "(x*y)**2 = x**2*y**2",
    "(x**2)**3 = x**6",
    "x - x = 0",
    "x/x = 1",
    "2*x = x + x",
    "x**2 = x*x",
)
AXIOM_STRINGS = TRIGONOMETRIC + HYPERBOLIC + INVERSE + EXPONENTIAL + ALGEBRA


@functools.cache
def seed_axioms() -> tuple:
    """The seed axioms as ``Equality`` trees (parsed once, unevaluated)."""
    return tuple(parse_infix(text) for text in AXIOM_STRINGS)
