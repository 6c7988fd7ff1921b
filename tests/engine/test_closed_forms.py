"""Values and derivatives known in closed form: softmax and friends at ±1000,
the conventions at kinks and ties, and a Hessian with zeros."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from strategies import REAL, arrays, shapes

L1 = math.log1p(math.exp(-1.0))  # log(1 + e^-1)
S1 = 1.0 / (1.0 + math.exp(-1.0))  # softmax([1, 0])[0]


# ---------------------------------------------------------------- large inputs
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_family_at_plus_minus_1000(dtype: type) -> None:
    x = cr.tensor([[1000.0, 999.0], [-1000.0, -1001.0], [1000.0, -1000.0]], dtype=dtype,
                  requires_grad=True)
    sm, lsm, lse = cr.softmax(x, -1), cr.log_softmax(x, -1), cr.logsumexp(x, -1)
    for t in (sm, lsm, lse):
        assert np.isfinite(t.data).all() and t.dtype == dtype
    # float32 holds 1000 only to about 6e-5 (its spacing there), so allow a few of those
    tol = {"rtol": 1e-6, "atol": 2e-4} if dtype == np.float32 else {"rtol": 1e-14, "atol": 1e-12}
    np.testing.assert_allclose(sm.data, [[S1, 1 - S1], [S1, 1 - S1], [1.0, 0.0]], **tol)
    np.testing.assert_allclose(lsm.data, [[-L1, -1 - L1], [-L1, -1 - L1], [0.0, -2000.0]],
                               **tol)
    np.testing.assert_allclose(lse.data, [1000 + L1, -1000 + L1, 1000.0], **tol)

    w = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]], dtype=dtype)
    (lse.sum() + (lsm * w).sum() + (sm * w).sum()).backward()
    p = np.array(sm.data, dtype=np.float64)
    expected = p + (w - p * w.sum(-1, keepdims=True)) + p * (w - (p * w).sum(-1, keepdims=True))
    assert np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad.data, expected, **tol)


def test_logsumexp_over_all_axes_at_1000() -> None:
    x = cr.tensor([[1000.0, 1000.0], [1000.0, 1000.0]], dtype=cr.float64, requires_grad=True)
    y = cr.logsumexp(x, keepdims=True)
    assert y.shape == (1, 1)
    assert y.item() == pytest.approx(1000 + math.log(4), rel=1e-15)
    y.backward()
    np.testing.assert_allclose(x.grad.data, np.full((2, 2), 0.25))


def test_infinite_inputs() -> None:
    x = cr.tensor([-np.inf, 0.0, 0.0])
    assert cr.logsumexp(x).item() == pytest.approx(math.log(2))
    np.testing.assert_allclose(cr.softmax(x).data, [0.0, 0.5, 0.5])
    assert cr.logsumexp(cr.tensor([-np.inf, -np.inf])).item() == -np.inf


@given(x=arrays(shapes(min_dims=1, max_dims=3), REAL),
       shift=st.sampled_from([-1000.0, 1000.0, 5e5]))
def test_softmax_family_is_shift_invariant(x: np.ndarray, shift: float) -> None:
    t, big = cr.tensor(x), cr.tensor(x + shift)
    np.testing.assert_allclose(cr.softmax(big, -1).data, cr.softmax(t, -1).data, atol=1e-9)
    np.testing.assert_allclose(cr.log_softmax(big, 0).data, cr.log_softmax(t, 0).data,
                               atol=1e-7)
    np.testing.assert_allclose(cr.logsumexp(big, -1).data, cr.logsumexp(t, -1).data + shift,
                               rtol=1e-12)


# ---------------------------------------------------------------- kinks and ties
def _grad(f: object, *values: list[float]) -> list[np.ndarray]:
    xs = [cr.tensor(v, requires_grad=True) for v in values]
    f(*xs).sum().backward()  # type: ignore[operator]
    return [x.grad.data for x in xs]


def test_relu_and_abs_at_zero_have_slope_zero() -> None:
    (g,) = _grad(cr.relu, [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])
    (g,) = _grad(cr.abs, [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])


def test_maximum_and_minimum_share_a_tie() -> None:
    ga, gb = _grad(cr.maximum, [1.0, 2.0, 3.0], [1.0, 5.0, 0.0])
    np.testing.assert_array_equal(ga, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.0])
    ga, gb = _grad(cr.minimum, [1.0, 2.0, 3.0], [1.0, 5.0, 0.0])
    np.testing.assert_array_equal(ga, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(gb, [0.5, 0.0, 1.0])


def test_max_and_min_share_the_gradient_among_ties() -> None:
    (g,) = _grad(lambda x: x.max(), [[3.0, 1.0, 3.0], [3.0, 0.0, 2.0]])
    np.testing.assert_allclose(g, [[1 / 3, 0, 1 / 3], [1 / 3, 0, 0]])
    (g,) = _grad(lambda x: x.min(1), [[3.0, 1.0, 1.0], [0.0, 4.0, 2.0]])
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1, 0, 0]])


def test_clip_passes_the_gradient_on_its_bounds() -> None:
    (g,) = _grad(lambda x: cr.clip(x, -1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_pow_with_a_zero_base() -> None:
    ga, gb = _grad(lambda a, b: a**b, [0.0, 0.0], [2.0, 3.0])
    np.testing.assert_array_equal(ga, [0.0, 0.0])  # b·a^(b-1) at a = 0
    np.testing.assert_array_equal(gb, [0.0, 0.0])  # aᵇ·ln a, with 0·ln 0 taken as 0
    (g,) = _grad(lambda a: a**2, [0.0, -3.0])
    np.testing.assert_array_equal(g, [0.0, -6.0])


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_sqrt_at_zero_is_infinite() -> None:
    (g,) = _grad(cr.sqrt, [0.0, 4.0])
    assert g[0] == np.inf and g[1] == 0.25


# ---------------------------------------------------------------- products with zeros
def test_prod_gradient_and_hessian_with_a_zero() -> None:
    x = cr.tensor([2.0, 0.0, 3.0])
    np.testing.assert_array_equal(cr.grad(lambda t: t.prod())(x).data, [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(
        cr.hessian(lambda t: t.prod())(x).data, [[0, 3, 0], [3, 0, 2], [0, 2, 0]]
    )
    two_zeros = cr.tensor([2.0, 0.0, 0.0])
    np.testing.assert_array_equal(cr.grad(lambda t: t.prod())(two_zeros).data, [0, 0, 0])
    np.testing.assert_array_equal(
        cr.hessian(lambda t: t.prod())(two_zeros).data, [[0, 0, 0], [0, 0, 2], [0, 2, 0]]
    )


def test_prod_with_zeros_through_create_graph() -> None:
    x = cr.tensor([[2.0, 0.0], [1.5, 4.0]], requires_grad=True)
    x.prod(1).sum().backward(create_graph=True)
    g = x.grad
    np.testing.assert_array_equal(g.data, [[0.0, 2.0], [4.0, 1.5]])
    x.grad = None
    (g * cr.tensor([[1.0, 10.0], [1.0, 1.0]])).sum().backward()
    # d/dx of [x01, 10·x00, x11, x10] summed: each element gets the weight of its partner
    np.testing.assert_array_equal(x.grad.data, [[10.0, 1.0], [1.0, 1.0]])
