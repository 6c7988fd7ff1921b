"""Forward mode on the scalar engine: ``chainrule.scalar.jvp`` against closed
forms, and against the reverse sweep (gradient · tangent)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

scalar = pytest.importorskip("chainrule.scalar")
if not hasattr(scalar, "jvp"):
    pytest.skip("chainrule.scalar has no jvp", allow_module_level=True)


def _sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# name -> (f on Values, f', interval)
FIRST: dict[str, tuple[Callable[[Any], Any], Callable[[float], float], tuple[float, float]]] = {
    "tanh": (lambda v: v.tanh(), lambda x: 1 - math.tanh(x) ** 2, (-3, 3)),
    "sin": (lambda v: v.sin(), math.cos, (-4, 4)),
    "cos": (lambda v: v.cos(), lambda x: -math.sin(x), (-4, 4)),
    "exp": (lambda v: v.exp(), math.exp, (-3, 3)),
    "log": (lambda v: v.log(), lambda x: 1 / x, (0.2, 5)),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: _sig(x) * (1 - _sig(x)), (-6, 6)),
    "sqrt": (lambda v: v.sqrt(), lambda x: 0.5 / math.sqrt(x), (0.2, 5)),
    "x**4": (lambda v: v ** 4, lambda x: 4 * x ** 3, (-2, 2)),
    "relu": (lambda v: v.relu(), lambda x: float(x > 0), (-2, 2)),
    "abs": (lambda v: v.abs(), lambda x: math.copysign(1.0, x), (-2, 2)),
    "2/x": (lambda v: 2 / v, lambda x: -2 / x ** 2, (0.2, 3)),
    "1-x": (lambda v: 1 - v, lambda x: -1.0, (-2, 2)),
    "x*sin(x)-x/3": (lambda v: v * v.sin() - v / 3, lambda x: math.sin(x) + x * math.cos(x)
                     - 1 / 3, (-3, 3)),
    "tanh(exp(-x))": (lambda v: (-v).exp().tanh(),
                      lambda x: -(1 - math.tanh(math.exp(-x)) ** 2) * math.exp(-x), (-1, 2)),
}


@pytest.mark.parametrize("name", sorted(FIRST))
@given(u=st.floats(0.01, 0.99))
def test_scalar_jvp_matches_closed_form(name: str, u: float) -> None:
    f, df, (lo, hi) = FIRST[name]
    x = lo + (hi - lo) * u
    if name in ("relu", "abs") and abs(x) < 1e-3:
        x = 0.5
    value, tangent = scalar.jvp(f, (x,), (1.0,))
    assert value == pytest.approx(f(scalar.Value(x)).data, rel=1e-12)
    assert tangent == pytest.approx(df(x), rel=1e-9, abs=1e-12)
    _, scaled = scalar.jvp(f, (x,), (-2.5,))  # linear in the tangent
    assert scaled == pytest.approx(-2.5 * df(x), rel=1e-9, abs=1e-12)


@given(x=st.floats(-2, 2), y=st.floats(0.5, 2), tx=st.floats(-1, 1), ty=st.floats(-1, 1))
def test_scalar_jvp_is_the_gradient_dotted_with_the_tangent(x: float, y: float, tx: float,
                                                            ty: float) -> None:
    def f(a: Any, b: Any) -> Any:
        return (a * b).tanh() + a ** 2 / b - (b.log() * a).exp()

    a, b = scalar.Value(x), scalar.Value(y)
    out = f(a, b)
    out.backward()
    _, tangent = scalar.jvp(f, (x, y), (tx, ty))
    assert tangent == pytest.approx(a.grad * tx + b.grad * ty, rel=1e-9, abs=1e-12)


def test_scalar_jvp_runs_no_backward_pass() -> None:
    a = scalar.Value(1.5)
    value, tangent = scalar.jvp(lambda v: v * v.exp(), (a,), (1.0,))
    assert (value, tangent) == pytest.approx((1.5 * math.exp(1.5), 2.5 * math.exp(1.5)))
    assert a.grad == 0.0  # the primal given in was not touched


def test_scalar_jvp_partial_derivatives() -> None:
    def f(a: Any, b: Any) -> Any:
        return a * b + a.sin()

    assert scalar.jvp(f, (2.0, 3.0), (1.0, 0.0))[1] == pytest.approx(3.0 + math.cos(2.0))
    assert scalar.jvp(f, (2.0, 3.0), (0.0, 1.0))[1] == pytest.approx(2.0)


def test_scalar_jvp_wants_one_tangent_per_primal() -> None:
    with pytest.raises(ValueError, match="tangent"):
        scalar.jvp(lambda a, b: a * b, (1.0, 2.0), (1.0,))
