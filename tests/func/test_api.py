"""The transforms' calling conventions: argnums (int, tuple, negative), NumPy
arrays and Python floats as inputs, what comes back, value_and_grad and vjp."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr

from .helpers import assert_close, numeric_jacobian


def f3(x: Any, y: Any, z: Any) -> Any:
    """A scalar function of three arguments with known gradients."""
    return (x * y).sum() + (cr.sin(z) * x[0]).sum()


X, Y, Z = np.array([1.0, 2.0]), np.array([3.0, -1.0]), np.array([0.5, -0.5, 1.5])
GX = Y + np.array([np.sin(Z).sum(), 0.0])
GY = X
GZ = np.cos(Z) * X[0]


def test_argnums_int_returns_one_gradient() -> None:
    g = cr.grad(f3)(X, Y, Z)
    assert isinstance(g, cr.Tensor)
    assert_close(g, GX, atol=1e-12)
    assert_close(cr.grad(f3, argnums=2)(X, Y, Z), GZ, atol=1e-12)


def test_argnums_tuple_returns_a_tuple_in_that_order() -> None:
    gs = cr.grad(f3, argnums=(2, 0))(X, Y, Z)
    assert isinstance(gs, tuple) and len(gs) == 2
    assert_close(gs[0], GZ, atol=1e-12)
    assert_close(gs[1], GX, atol=1e-12)
    (only,) = cr.grad(f3, argnums=(1,))(X, Y, Z)  # a 1-tuple stays a tuple
    assert_close(only, GY, atol=1e-12)


def test_negative_argnums_count_from_the_end() -> None:
    assert_close(cr.grad(f3, argnums=-1)(X, Y, Z), GZ, atol=1e-12)
    gs = cr.grad(f3, argnums=(-3, -2))(X, Y, Z)
    assert_close(gs[0], GX, atol=1e-12)
    assert_close(gs[1], GY, atol=1e-12)


@pytest.mark.parametrize("transform", [cr.jacrev, cr.jacfwd])
def test_jacobians_with_argnums(transform: Any) -> None:
    def f(x: Any, y: Any, z: Any) -> Any:
        return cr.stack([f3(x, y, z), (x ** 2).sum()])

    jx, jz = transform(f, argnums=(0, 2))(X, Y, Z)
    assert jx.shape == (2, 2) and jz.shape == (2, 3)
    assert_close(jx, np.stack([GX, 2 * X]), atol=1e-12)
    assert_close(jz, np.stack([GZ, np.zeros(3)]), atol=1e-12)
    assert_close(transform(f, argnums=-2)(X, Y, Z), np.stack([GY, np.zeros(2)]), atol=1e-12)


def test_inputs_may_be_arrays_floats_lists_or_tensors() -> None:
    def f(x: Any) -> Any:
        return (x ** 3).sum()

    expected = 3 * X ** 2
    for x in (X, X.tolist(), cr.tensor(X), cr.tensor(X, requires_grad=True)):
        g = cr.grad(f)(x)
        assert isinstance(g, cr.Tensor)
        assert_close(g, expected, atol=1e-12)
        assert_close(cr.jacfwd(f)(x), expected, atol=1e-12)
        assert_close(cr.jacrev(f)(x), expected, atol=1e-12)
    assert cr.grad(lambda s: s ** 3)(2.0).item() == pytest.approx(12.0)
    assert cr.grad(lambda s: s ** 3)(np.float64(2.0)).item() == pytest.approx(12.0)
    out, tan = cr.jvp(lambda s: s ** 3, (2.0,), (1.0,))
    assert (out.item(), tan.item()) == pytest.approx((8.0, 12.0))


def test_inputs_are_left_alone() -> None:
    x = X.copy()
    t = cr.tensor(X, requires_grad=True)
    cr.grad(lambda v: (v * v).sum())(x)
    cr.hessian(lambda v: (v * v * v).sum())(t)
    cr.jvp(lambda v: v * v, (x,), (np.ones(2),))
    assert np.array_equal(x, X)
    assert np.array_equal(t.numpy(), X) and t.grad is None and t.is_leaf


def test_results_are_plain_tensors_at_top_level() -> None:
    g = cr.grad(lambda v: (v * v).sum())(X)
    h = cr.hessian(lambda v: (v * v * v).sum())(X)
    j = cr.jacfwd(lambda v: v * v)(X)
    out, tan = cr.jvp(lambda v: v * v, (X,), (np.ones(2),))
    for r in (g, h, j, out, tan):
        assert isinstance(r, cr.Tensor)
        assert r.is_leaf and not r.requires_grad


def test_float32_stays_float32() -> None:
    x = X.astype(np.float32)
    assert cr.grad(lambda v: (v * v).sum())(x).dtype == np.float32
    assert cr.jacrev(lambda v: v * v)(x).dtype == np.float32
    assert cr.jacfwd(lambda v: v * v)(x).dtype == np.float32
    assert cr.hessian(lambda v: (v ** 3).sum())(x).dtype == np.float32


def test_value_and_grad() -> None:
    value, g = cr.value_and_grad(f3)(X, Y, Z)
    assert isinstance(value, cr.Tensor) and value.shape == ()
    with cr.no_grad():
        assert value.item() == pytest.approx(f3(cr.tensor(X), cr.tensor(Y), cr.tensor(Z)).item())
    assert not value.requires_grad
    assert_close(g, GX, atol=1e-12)
    value2, (gy, gz) = cr.value_and_grad(f3, argnums=(1, 2))(X, Y, Z)
    assert value2.item() == value.item()
    assert_close(gy, GY, atol=1e-12)
    assert_close(gz, GZ, atol=1e-12)


def test_value_and_grad_composes() -> None:
    # the value of an inner value_and_grad is differentiable by an outer transform
    def inner_value(x: Any) -> Any:
        return cr.value_and_grad(lambda v: (v ** 3).sum())(x)[0]

    assert_close(cr.grad(inner_value)(X), 3 * X ** 2, atol=1e-12)

    def inner_grad_sum(x: Any) -> Any:
        return cr.value_and_grad(lambda v: (v ** 3).sum())(x)[1].sum()

    assert_close(cr.grad(inner_grad_sum)(X), 6 * X, atol=1e-12)


def test_vjp_with_a_cotangent_called_twice() -> None:
    def f(x: Any, y: Any) -> Any:
        return cr.tanh(x[:, None] * y)  # (2, 2)

    out, vjp_fn = cr.vjp(f, X, Y)
    assert out.shape == (2, 2)
    assert_close(out, np.tanh(X[:, None] * Y), atol=1e-12)
    d = 1 - np.tanh(X[:, None] * Y) ** 2
    for v in (np.ones((2, 2)), np.array([[1.0, -2.0], [0.5, 3.0]])):
        gx, gy = vjp_fn(v)
        assert_close(gx, (v * d * Y).sum(1), atol=1e-12)
        assert_close(gy, (v * d * X[:, None]).sum(0), atol=1e-12)
    again = vjp_fn(np.ones((2, 2)))  # the graph was kept for another call
    assert_close(again[0], (d * Y).sum(1), atol=1e-12)


def test_vjp_of_a_function_that_ignores_an_input_gives_zeros() -> None:
    out, vjp_fn = cr.vjp(lambda x, y: x * 2.0, X, Z)
    gx, gz = vjp_fn(np.ones(2))
    assert_close(gx, 2 * np.ones(2), atol=0)
    assert_close(gz, np.zeros(3), atol=0)


def test_grad_of_a_function_that_ignores_its_input_is_zero() -> None:
    g = cr.grad(lambda x, y: (y * y).sum())(X, Y)
    assert_close(g, np.zeros(2), atol=0)
    assert_close(cr.jacrev(lambda x: cr.tensor([1.0, 2.0]))(X), np.zeros((2, 2)), atol=0)
    assert_close(cr.jacfwd(lambda x: cr.tensor([1.0, 2.0]))(X), np.zeros((2, 2)), atol=0)


def test_transforms_are_reusable_and_keep_the_functions_name() -> None:
    g = cr.grad(f3)
    assert g.__name__ == "f3"
    assert_close(g(X, Y, Z), g(X, Y, Z), atol=0)
    assert_close(g(2 * X, Y, Z), Y + np.array([np.sin(Z).sum(), 0.0]), atol=1e-12)


def test_the_gradient_of_a_scalar_input_converts_with_asarray() -> None:
    g = cr.grad(cr.tanh)(1.5)
    assert np.asarray(g).shape == ()  # ValueError: __array__ method not producing an array
    assert type(g.data) is np.ndarray


def test_results_stay_connected_to_inputs_that_require_grad() -> None:
    """Hessian-vector products three ways: backward through grad, vjp and jvp results."""
    v = np.array([1.0, 2.0, 3.0])
    x0 = np.array([0.5, -1.0, 2.0])
    expected = 6 * x0 * v  # the Hessian of sum(x³) is diag(6x)
    x = cr.tensor(x0, requires_grad=True)
    g = cr.grad(lambda a: (a ** 3).sum())(x)
    assert g.requires_grad
    (g * v).sum().backward()
    assert_close(x.grad, expected, atol=1e-12)
    x = cr.tensor(x0, requires_grad=True)
    _, vjp_fn = cr.vjp(lambda a: a ** 3, x)
    vjp_fn(v)[0].sum().backward()
    assert_close(x.grad, expected, atol=1e-12)
    x = cr.tensor(x0, requires_grad=True)
    _, tangent = cr.jvp(lambda a: (a ** 3).sum(), (x,), (v,))
    tangent.backward()
    assert_close(x.grad, expected, atol=1e-12)


def test_a_gradient_penalty_reaches_the_weights() -> None:
    """loss = critic(x) + |d critic / dx|², as in WGAN-GP: the penalty depends on w too."""
    w0, x = np.array([0.5, -0.3]), np.array([0.2, 0.7])

    def loss_at(w: Any) -> Any:
        def critic(v: Any) -> Any:
            return cr.tanh((v * w).sum())

        return critic(x) + (cr.grad(critic)(x) ** 2).sum()

    w = cr.tensor(w0, requires_grad=True)
    loss_at(w).backward()  # the penalty's part of the gradient is silently missing
    expected = numeric_jacobian(loss_at, [w0])
    assert_close(w.grad, expected, atol=1e-6)


@pytest.mark.parametrize("name", ["grad", "jacrev", "jacfwd", "jvp", "vjp"])
def test_a_transform_of_a_closure_stays_connected_to_what_it_closes_over(name: str) -> None:
    x0 = np.array([0.5, -1.0])
    w = cr.tensor(2.0, requires_grad=True)

    def f(x: Any) -> Any:
        return w * x ** 2

    result = {
        "grad": lambda: cr.grad(lambda x: f(x).sum())(x0),
        "jacrev": lambda: cr.jacrev(f)(x0),
        "jacfwd": lambda: cr.jacfwd(f)(x0),
        "jvp": lambda: cr.jvp(f, (x0,), (np.ones(2),))[1],
        "vjp": lambda: cr.vjp(f, x0)[1](np.ones(2))[0],
    }[name]()
    assert result.requires_grad
    result.sum().backward()
    assert w.grad is not None and w.grad.item() == pytest.approx(2 * x0.sum())
