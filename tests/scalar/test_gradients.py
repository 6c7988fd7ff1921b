"""Every gate's derivative, and whole random expressions, against central differences.

The numerical side is computed with plain floats and the ``math`` module, not
with Value, so a wrong forward rule cannot hide a wrong derivative.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chainrule.scalar import RULES, Value, constant, jvp

H = 1e-6


def central_difference(f: Callable[..., float], args: list[float], i: int) -> float:
    up, down = list(args), list(args)
    up[i] += H
    down[i] -= H
    return (f(*up) - f(*down)) / (2 * H)


def close(analytic: float, numeric: float, tol: float = 1e-5) -> bool:
    return abs(analytic - numeric) <= tol * (1 + abs(analytic) + abs(numeric))


def away_from_zero(lo: float, hi: float) -> Callable[[random.Random], float]:
    return lambda rng: rng.choice((-1, 1)) * rng.uniform(lo, hi)


ANYWHERE = lambda rng: rng.uniform(-3, 3)  # noqa: E731
POSITIVE = lambda rng: rng.uniform(0.1, 4)  # noqa: E731

# gate: (what the Value does, the same in floats, where to sample each input)
UNARY: dict[str, tuple[Callable[[Value], Value], Callable[[float], float], Any]] = {
    "neg": (lambda v: -v, lambda x: -x, ANYWHERE),
    "exp": (lambda v: v.exp(), math.exp, ANYWHERE),
    "log": (lambda v: v.log(), math.log, POSITIVE),
    "tanh": (lambda v: v.tanh(), math.tanh, ANYWHERE),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x)), ANYWHERE),
    "relu": (lambda v: v.relu(), lambda x: max(x, 0.0), away_from_zero(0.05, 3)),
    "sin": (lambda v: v.sin(), math.sin, ANYWHERE),
    "cos": (lambda v: v.cos(), math.cos, ANYWHERE),
    "sqrt": (lambda v: v.sqrt(), math.sqrt, POSITIVE),
    "abs": (lambda v: v.abs(), abs, away_from_zero(0.05, 3)),
}
BINARY: dict[str, tuple[Callable[[float], float], Any]] = {
    "+": (lambda x: x, ANYWHERE),
    "-": (lambda x: x, ANYWHERE),
    "×": (lambda x: x, ANYWHERE),
    "/": (lambda x: x, away_from_zero(0.2, 3)),
}
FLOAT_BINARY = {
    "+": lambda x, y: x + y,
    "-": lambda x, y: x - y,
    "×": lambda x, y: x * y,
    "/": lambda x, y: x / y,
}


def test_every_gate_is_tested() -> None:
    assert set(RULES) == set(UNARY) | set(BINARY) | {"**"}


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_gate_derivative(op: str) -> None:
    method, reference, sample = UNARY[op]
    rng = random.Random(op)
    for _ in range(20):
        x0 = sample(rng)
        x = Value(x0)
        out = method(x)
        assert out.op == op
        assert math.isclose(out.data, reference(x0), rel_tol=1e-12, abs_tol=1e-12)
        out.backward()
        assert close(x.grad, central_difference(reference, [x0], 0)), (op, x0, x.grad)


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("form", ["value-value", "value-number", "number-value"])
def test_binary_gate_derivative(op: str, form: str) -> None:
    _, sample = BINARY[op]
    reference = FLOAT_BINARY[op]
    python_op = {"+": "__add__", "-": "__sub__", "×": "__mul__", "/": "__truediv__"}[op]
    rng = random.Random(op + form)
    for _ in range(20):
        x0, y0 = ANYWHERE(rng), sample(rng)
        x, y = Value(x0), Value(y0)
        if form == "value-value":
            out = getattr(x, python_op)(y)
        elif form == "value-number":
            out = getattr(x, python_op)(y0)
        else:  # Python's reflected call: the number is on the left
            out = getattr(y, python_op.replace("__", "__r", 1))(x0)
            x, y = Value(0.0), y  # x is a number here: only y gets a gradient
        assert out.op == op and out.data == reference(x0, y0)
        out.backward()
        if form != "number-value":
            assert close(x.grad, central_difference(reference, [x0, y0], 0))
        if form != "value-number":
            assert close(y.grad, central_difference(reference, [x0, y0], 1))


@pytest.mark.parametrize("n", [0, 1, 2, 3, -1, 0.5, -1.5, 2.5])
def test_power_gate_derivative(n: float) -> None:
    rng = random.Random(str(n))
    for _ in range(20):
        x0 = POSITIVE(rng) if n != int(n) else ANYWHERE(rng)
        assume_nonzero = n < 1 and abs(x0) < 0.1
        if assume_nonzero:
            continue
        x = Value(x0)
        out = x**n
        out.backward()
        assert math.isclose(out.data, x0**n, rel_tol=1e-12)
        assert close(x.grad, central_difference(lambda t: t**n, [x0], 0))


# -- random expression trees -------------------------------------------------
# A tree is a variable name, a number, or (op, subtree[, subtree]). Ops that
# need a restricted domain are applied to 1 + t² so any subtree t is valid.
def _safe(t: Any) -> Any:
    return t * t + 1


TREE_OPS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    # name: (on Values, on floats)
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / _safe(b), lambda a, b: a / _safe(b)),
    "rdiv": (lambda a: 2 / _safe(a), lambda a: 2 / _safe(a)),
    "rsub": (lambda a: 1.5 - a, lambda a: 1.5 - a),
    "neg": (lambda a: -a, lambda a: -a),
    "exp": (lambda a: a.exp(), math.exp),
    "log": (lambda a: _safe(a).log(), lambda a: math.log(_safe(a))),
    "tanh": (lambda a: a.tanh(), math.tanh),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: 1 / (1 + math.exp(-a))),
    "relu": (lambda a: a.relu(), lambda a: max(a, 0.0)),
    "sin": (lambda a: a.sin(), math.sin),
    "cos": (lambda a: a.cos(), math.cos),
    "sqrt": (lambda a: _safe(a).sqrt(), lambda a: math.sqrt(_safe(a))),
    "abs": (lambda a: a.abs(), abs),
    "square": (lambda a: a**2, lambda a: a**2),
    "cube": (lambda a: a**3, lambda a: a**3),
    "rsqrt": (lambda a: _safe(a) ** -0.5, lambda a: _safe(a) ** -0.5),
}
KINKS = ("relu", "abs")  # not differentiable at 0
VARIABLES = ("x", "y", "z")


def _tree(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    binary = [op for op in TREE_OPS if op in ("add", "sub", "mul", "div")]
    unary = [op for op in TREE_OPS if op not in binary]
    return st.one_of(
        st.tuples(st.sampled_from(unary), children),
        st.tuples(st.sampled_from(binary), children, children),
    )


trees = st.recursive(
    st.sampled_from(VARIABLES) | st.sampled_from([0.5, 2.0, -1.0, 3.0]), _tree, max_leaves=10
)
points = st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3)


class Watch:
    """What a float evaluation saw: how close it came to a kink, its largest value."""

    def __init__(self) -> None:
        self.kink, self.largest = math.inf, 0.0


def evaluate(tree: Any, env: dict[str, Any], on_values: bool, watch: Watch | None = None) -> Any:
    if isinstance(tree, str):
        return env[tree]
    if isinstance(tree, float):
        return tree
    op, *args = tree
    vals = [evaluate(a, env, on_values, watch) for a in args]
    if on_values and len(vals) == 1 and not isinstance(vals[0], Value):
        vals = [constant(vals[0])]  # a gate applied to a number: 2.0.exp() is no method
    out = TREE_OPS[op][0 if on_values else 1](*vals)
    if watch is not None:
        if op in KINKS:
            watch.kink = min(watch.kink, abs(vals[0]))
        watch.largest = max(watch.largest, abs(out))
    return out


def float_function(tree: Any) -> Callable[..., float]:
    def f(*xs: float) -> float:
        result = evaluate(tree, dict(zip(VARIABLES, xs, strict=True)), False)
        return float(result)

    return f


def checked_gradients(tree: Any, xs: list[float]) -> tuple[Any, list[Value], list[float]]:
    """Backward and numerical gradients, skipping points where either is unreliable."""
    watch = Watch()
    try:
        evaluate(tree, dict(zip(VARIABLES, xs, strict=True)), False, watch)
    except (OverflowError, ValueError, ZeroDivisionError):
        assume(False)
    # Central differences need distance from a kink and moderate intermediates
    # (cancellation between huge values would swamp them).
    assume(watch.kink > 1e-3 and watch.largest < 1e3)
    inputs = [Value(x, label=v) for x, v in zip(xs, VARIABLES, strict=True)]
    out = evaluate(tree, dict(zip(VARIABLES, inputs, strict=True)), True)
    f = float_function(tree)
    numeric = [central_difference(f, xs, i) for i in range(len(xs))]
    return out, inputs, numeric


@settings(max_examples=150)
@given(trees, points)
def test_random_expressions_against_central_differences(tree: Any, xs: list[float]) -> None:
    out, inputs, numeric = checked_gradients(tree, xs)
    if not isinstance(out, Value):  # a tree of numbers only
        return
    assert math.isclose(out.data, float_function(tree)(*xs), rel_tol=1e-9, abs_tol=1e-12)
    out.backward()
    for v, n in zip(inputs, numeric, strict=True):
        assert close(v.grad, n, tol=1e-4), (tree, xs, v.label, v.grad, n)


@settings(max_examples=100)
@given(trees, points, st.lists(st.floats(-1, 1), min_size=3, max_size=3))
def test_forward_mode_matches_reverse_mode(tree: Any, xs: list[float], ts: list[float]) -> None:
    out, inputs, _ = checked_gradients(tree, xs)
    if not isinstance(out, Value):
        return
    out.backward()
    directional = sum(v.grad * t for v, t in zip(inputs, ts, strict=True))

    def f(x: Value, y: Value, z: Value) -> Value:
        result: Value = evaluate(tree, {"x": x, "y": y, "z": z}, True)
        return result

    value, tangent = jvp(f, xs, ts)
    assert value == out.data
    assert close(tangent, directional, tol=1e-9)


# -- the formulas people read agree with the gates that compute ---------------
FORMULA_FUNCTIONS = {
    "exp": math.exp, "log": math.log, "tanh": math.tanh, "sin": math.sin, "cos": math.cos,
    "sqrt": math.sqrt, "abs": abs, "max": max, "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
    "sign": lambda x: (x > 0) - (x < 0),
}


@pytest.mark.parametrize("op", sorted(RULES))
def test_rule_formulas_match_the_gates(op: str) -> None:
    """RULES is what explain() prints; evaluated here, it must give the gate's numbers."""
    rule = RULES[op]
    rng = random.Random(op)
    for _ in range(10):
        x0, y0, n = POSITIVE(rng), POSITIVE(rng), rng.choice([2.0, 3.0, -1.0, 0.5])
        x, y = Value(x0), Value(y0)
        if op in BINARY:
            out = {"+": x + y, "-": x - y, "×": x * y, "/": x / y}[op]
        elif op == "**":
            out = x**n
        else:
            out = UNARY[op][0](x)
        names = {"x": x0, "y": y0, "n": n, "out": out.data, **FORMULA_FUNCTIONS}
        assert math.isclose(eval(rule.out, names), out.data, rel_tol=1e-12)
        for formula, local in zip(rule.derivatives, out.local_grads, strict=True):
            assert math.isclose(eval(formula, names), local, rel_tol=1e-12), (op, formula)
