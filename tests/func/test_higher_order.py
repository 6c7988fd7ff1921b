"""Transforms composed to depth: third derivatives against closed forms,
every second-order composition against the Hessian, and nested derivatives
that must not confuse their perturbations."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr

from .helpers import arr, assert_close, numeric_jacobian

_C = 2 / math.sqrt(math.pi)


def _sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# name -> (f on tensors, its third derivative, the interval to draw x from)
THIRD: dict[str, tuple[Callable[[Any], Any], Callable[[float], float], tuple[float, float]]] = {
    "tanh": (cr.tanh, lambda x: -2 * (1 - math.tanh(x) ** 2) * (1 - 3 * math.tanh(x) ** 2),
             (-3, 3)),
    "sin": (cr.sin, lambda x: -math.cos(x), (-4, 4)),
    "cos": (cr.cos, math.sin, (-4, 4)),
    "exp": (cr.exp, math.exp, (-3, 3)),
    "log": (cr.log, lambda x: 2 / x ** 3, (0.3, 4)),
    "sigmoid": (cr.sigmoid,
                lambda x: _sig(x) * (1 - _sig(x)) * (1 - 6 * _sig(x) + 6 * _sig(x) ** 2),
                (-5, 5)),
    "x**4": (lambda x: x ** 4, lambda x: 24 * x, (-3, 3)),
    "sqrt": (cr.sqrt, lambda x: 3 / 8 * x ** -2.5, (0.3, 4)),
    "erf": (cr.erf, lambda x: _C * math.exp(-x * x) * (4 * x * x - 2), (-2, 2)),
    "1/x": (lambda x: 1.0 / x, lambda x: -6 / x ** 4, (0.3, 4)),
    "x*exp(x)": (lambda x: x * cr.exp(x), lambda x: (x + 3) * math.exp(x), (-3, 2)),
    "exp(2x)": (lambda x: cr.exp(2.0 * x), lambda x: 8 * math.exp(2 * x), (-2, 1)),
}


def _d(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The derivative of a scalar function by forward mode (one jvp)."""
    return lambda x: cr.jvp(f, (x,), (1.0,))[1]


@pytest.mark.parametrize("name", sorted(THIRD))
@given(u=st.floats(0, 1))
def test_third_derivative_matches_closed_form(name: str, u: float) -> None:
    f, d3, (lo, hi) = THIRD[name]
    x = lo + (hi - lo) * u
    expected = d3(x)
    routes = {
        "grad(grad(grad))": cr.grad(cr.grad(cr.grad(f))),
        "jacfwd^3": cr.jacfwd(cr.jacfwd(cr.jacfwd(f))),
        "jacrev^3": cr.jacrev(cr.jacrev(cr.jacrev(f))),
        "jacfwd(hessian)": cr.jacfwd(cr.hessian(f)),
        "grad(jacfwd(grad))": cr.grad(cr.jacfwd(cr.grad(f))),
        "jvp^3": _d(_d(_d(f))),
        "grad(jvp(grad))": cr.grad(_d(cr.grad(f))),
        "jvp(grad(jvp))": _d(cr.grad(_d(f))),
    }
    for route, d3f in routes.items():
        got = d3f(x)
        assert isinstance(got, cr.Tensor) and got.shape == (), route
        assert got.item() == pytest.approx(expected, rel=1e-9, abs=1e-9), route


def test_fourth_derivative_of_x_to_the_sixth() -> None:
    f = cr.grad(cr.grad(cr.grad(cr.grad(lambda x: x ** 6))))
    assert f(1.5).item() == pytest.approx(360 * 1.5 ** 2)


def test_third_derivative_tensor_of_a_vector_function() -> None:
    """T_ijk = Σ_r A_ri A_rj A_rk tanh'''(u_r) for f(x) = sum(tanh(A x))."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 3))
    x = rng.standard_normal(3)

    def f(v: Any) -> Any:
        return cr.tanh(cr.tensor(a) @ v).sum()

    t = np.tanh(a @ x)
    d3 = -2 * (1 - t ** 2) * (1 - 3 * t ** 2)
    expected = np.einsum("ri,rj,rk,r->ijk", a, a, a, d3)
    for third in (cr.jacfwd(cr.hessian(f)), cr.jacrev(cr.hessian(f)),
                  cr.jacfwd(cr.jacfwd(cr.jacrev(f)))):
        assert_close(third(x), expected, atol=1e-10, rtol=1e-9)
    assert_close(cr.jacfwd(cr.hessian(f))(x), numeric_jacobian(cr.hessian(f), [x]),
                 atol=1e-6)


def _two_input_function(x: Any, y: Any) -> Any:
    return (cr.sin(x)[:, None] * cr.exp(y) + (x ** 2).sum() * cr.tanh(y).mean()).sum()


def test_all_second_order_compositions_equal_the_hessian() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal(3), rng.standard_normal((2,))
    f = _two_input_function
    h = cr.hessian(f)(x, y)
    assert h.shape == (3, 3)
    assert_close(h, numeric_jacobian(cr.grad(f), [x, y]), atol=1e-6)
    for name, comp in [("jacfwd(jacrev)", cr.jacfwd(cr.jacrev(f))),
                       ("jacrev(jacfwd)", cr.jacrev(cr.jacfwd(f))),
                       ("jacrev(jacrev)", cr.jacrev(cr.jacrev(f))),
                       ("jacfwd(jacfwd)", cr.jacfwd(cr.jacfwd(f))),
                       ("jacrev(grad)", cr.jacrev(cr.grad(f)))]:
        assert_close(comp(x, y), h, atol=1e-12, rtol=1e-10, what=name)
    # the same for the second argument, and the mixed block
    h_yy = cr.hessian(f, argnums=1)(x, y)
    assert_close(h_yy, numeric_jacobian(cr.grad(f, argnums=1), [x, y], 1), atol=1e-6)
    h_xy = cr.jacfwd(cr.jacrev(f, argnums=0), argnums=1)(x, y)
    h_yx = cr.jacrev(cr.jacfwd(f, argnums=1), argnums=0)(x, y)
    assert h_xy.shape == (3, 2) and h_yx.shape == (2, 3)
    assert_close(h_xy, arr(h_yx).T, atol=1e-12)
    assert_close(h_xy, numeric_jacobian(cr.grad(f), [x, y], 1), atol=1e-6)


def test_hessian_with_tuple_argnums_gives_the_nested_blocks() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal(3), rng.standard_normal((2,))
    blocks = cr.hessian(_two_input_function, argnums=(0, 1))(x, y)  # JAX: ((xx, xy), (yx, yy))
    assert blocks[0][1].shape == (3, 2)


def test_hessian_of_a_vector_valued_function_stacks_the_outputs() -> None:
    x = np.array([0.3, -0.7, 1.1])

    def f(v: Any) -> Any:
        return cr.stack([(v ** 3).sum(), (cr.sin(v) * v[0]).sum()])

    h = cr.hessian(f)(x)
    assert h.shape == (2, 3, 3)
    for k in range(2):
        assert_close(h[k], cr.hessian(lambda v, k=k: f(v)[k])(x), atol=1e-12)
    assert_close(h[0], np.diag(6 * x), atol=1e-12)


# ---------------------------------------------------------------- perturbation confusion
# Siskind & Pearlmutter's test: d/dx [x · (d/dy (x + y))(y=1)] at x = 1 is 1.
# An implementation that lets the inner derivative see the outer perturbation of x
# gets 2. The other two functions have an inner derivative that depends on x.

_D: dict[str, Callable[[Any], Any]] = {
    "grad": cr.grad, "jvp": _d, "jacfwd": cr.jacfwd, "jacrev": cr.jacrev}
_PAIRS = [("grad", "grad"), ("jvp", "jvp"), ("jvp", "grad"), ("jacfwd", "jacrev"),
          ("jacrev", "jacfwd"), ("jacfwd", "jvp"), ("grad", "jvp"), ("jacrev", "jvp")]


@pytest.mark.parametrize(("outer", "inner"), _PAIRS)
def test_no_perturbation_confusion(outer: str, inner: str) -> None:
    def f(x: Any) -> Any:
        return x * _D[inner](lambda y: x + y)(1.0)

    assert _D[outer](f)(1.0).item() == pytest.approx(1.0)


@pytest.mark.parametrize(("outer", "inner"), [
    pytest.param(o, i, marks=[])
    for o, i in _PAIRS])
def test_inner_derivative_that_depends_on_the_outer_variable(outer: str, inner: str) -> None:
    def g(x: Any) -> Any:  # d/dx [x · d/dy (x·y)] = d/dx x² = 2x
        return x * _D[inner](lambda y: x * y)(2.0)

    assert _D[outer](g)(3.0).item() == pytest.approx(6.0)

    def h(x: Any) -> Any:  # d/dx [d/dy (x·y·y)](y=x) = d/dx [2x·x] = 4x
        return _D[inner](lambda y: x * y * y)(x)

    assert _D[outer](h)(0.5).item() == pytest.approx(2.0)
