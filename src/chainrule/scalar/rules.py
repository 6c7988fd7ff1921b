"""The scalar gates' rules written as formulas, for people: ``explain`` prints
them with the names of a graph's nodes put in, and ``chainrule ops`` lists
them. The code that computes them is the gate's method on ``Value``; a test
checks that the two agree at random points.

``x`` and ``y`` are the gate's inputs (``n`` the exponent of ``**``) and
``out`` its output; ``derivatives[i]`` is ∂out/∂(input i).
"""

from __future__ import annotations

from typing import NamedTuple


class Rule(NamedTuple):
    """One gate: its output and its local derivatives, as formulas."""

    out: str
    derivatives: tuple[str, ...]


# fmt: off
RULES: dict[str, Rule] = {
    "+":       Rule("x + y",         ("1", "1")),
    "-":       Rule("x - y",         ("1", "-1")),
    "×":       Rule("x * y",         ("y", "x")),
    "/":       Rule("x / y",         ("1 / y", "-x / (y * y)")),
    "neg":     Rule("-x",            ("-1",)),
    "**":      Rule("x ** n",        ("n * x ** (n - 1)",)),
    "exp":     Rule("exp(x)",        ("out",)),
    "log":     Rule("log(x)",        ("1 / x",)),
    "tanh":    Rule("tanh(x)",       ("1 - out * out",)),
    "sigmoid": Rule("sigmoid(x)",    ("out * (1 - out)",)),
    "relu":    Rule("max(x, 0)",     ("1 if x > 0 else 0",)),
    "sin":     Rule("sin(x)",        ("cos(x)",)),
    "cos":     Rule("cos(x)",        ("-sin(x)",)),
    "sqrt":    Rule("sqrt(x)",       ("0.5 / out",)),
    "abs":     Rule("abs(x)",        ("sign(x)",)),
}
# fmt: on
