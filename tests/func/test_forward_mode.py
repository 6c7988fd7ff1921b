"""Forward mode proper: jvp is one forward sweep (no backward pass), custom
gates take part through their ``jvp`` rule, and jacrev / jacfwd each run one
sweep for the whole Jacobian rather than one per row or column."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine import sweep as sweep_module
from chainrule.ops import Op

from .helpers import assert_close, numeric_jacobian

FUNC_MODULE = sys.modules["chainrule.func"]


@pytest.fixture
def backprop_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Count every reverse sweep, whoever starts it (transforms, backward(), gradcheck):
    there is one sweep function, bound in three modules."""
    calls: list[int] = []
    original = sweep_module.sweep

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    for module in (sweep_module, FUNC_MODULE, sys.modules["chainrule.gradcheck"]):
        monkeypatch.setattr(module, "sweep", counting)
    yield calls


def _f(x: Any, y: Any) -> Any:
    return cr.tanh(x @ y).sum(axis=0) * cr.exp(x[:, 0])


X = np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.8]])
Y = np.array([[1.0, -0.5, 0.2], [0.3, 0.7, -1.1]])


def test_jvp_runs_no_backward_pass(backprop_calls: list[int]) -> None:
    tx, ty = np.ones_like(X), np.full_like(Y, 0.5)
    out, t_out = cr.jvp(_f, (X, Y), (tx, ty))
    assert backprop_calls == []
    expected = (numeric_jacobian(_f, [X, Y], 0).reshape(3, -1) @ tx.ravel()
                + numeric_jacobian(_f, [X, Y], 1).reshape(3, -1) @ ty.ravel())
    assert_close(t_out, expected)
    assert out.shape == t_out.shape == (3,)


def test_jacfwd_runs_no_backward_pass(backprop_calls: list[int]) -> None:
    jac = cr.jacfwd(_f, argnums=(0, 1))(X, Y)
    assert backprop_calls == []
    assert_close(jac[1], numeric_jacobian(_f, [X, Y], 1))


def test_the_spy_sees_reverse_mode(backprop_calls: list[int]) -> None:
    cr.grad(lambda x: _f(x, Y).sum())(X)
    x = cr.tensor(X, requires_grad=True)
    _f(x, Y).sum().backward()
    assert len(backprop_calls) == 2


@pytest.mark.parametrize("n", [1, 7, 40])
def test_jacrev_is_one_reverse_sweep_for_all_rows(backprop_calls: list[int], n: int) -> None:
    a = np.random.default_rng(0).standard_normal((n, 3))
    x = np.array([0.2, -0.3, 0.4])
    jac = cr.jacrev(lambda v: cr.sin(cr.tensor(a) @ v))(x)
    assert jac.shape == (n, 3)
    assert len(backprop_calls) == 1
    assert_close(jac, np.cos(a @ x)[:, None] * a, atol=1e-12)


@pytest.fixture
def tangent_pushes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The name of the op each time a forward sweep pushes tangents through one."""
    pushes: list[str] = []
    original = Op.tangent

    def counting(self: Op, *args: Any) -> Any:
        pushes.append(self.name)
        return original(self, *args)

    monkeypatch.setattr(Op, "tangent", counting)
    yield pushes


@pytest.mark.parametrize("n", [1, 7, 40])
def test_jacfwd_is_one_forward_sweep_for_all_columns(tangent_pushes: list[str], n: int) -> None:
    x = np.linspace(-1, 1, n)
    jac = cr.jacfwd(lambda v: (cr.tanh(v) * v).sum())(x)
    assert jac.shape == (n,)
    assert sorted(tangent_pushes) == ["mul", "sum", "tanh"]  # once per op, whatever n is
    t = np.tanh(x)
    assert_close(jac, t + x * (1 - t * t), atol=1e-12)


def test_jacrev_runs_each_rule_once_for_all_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    from chainrule.ops import linalg

    calls: list[tuple[int, ...]] = []

    def spy(rule: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(m: Any, g: Any, *rest: Any) -> Any:
            calls.append(tuple(g.shape))
            return rule(m, g, *rest)

        return wrapped

    # the sweep runs the rules it finds in rules_for (per pattern of inputs needing a gradient)
    spied = {needs: tuple((i, spy(rule)) for i, rule in pairs)
             for needs, pairs in linalg.matmul.rules_for.items()}
    monkeypatch.setattr(linalg.matmul, "rules_for", spied)
    a = np.random.default_rng(1).standard_normal((5, 4))
    jac = cr.jacrev(lambda w, v: w @ v, argnums=(0, 1))(a, np.ones(4))
    assert jac[0].shape == (5, 5, 4) and jac[1].shape == (5, 4)
    assert calls == [(5, 5), (5, 5)]  # each rule once, with the 5 cotangents stacked
    assert_close(jac[1], a, atol=0)


def test_hessian_is_one_reverse_sweep_carrying_tangents(backprop_calls: list[int]) -> None:
    a = np.random.default_rng(2).standard_normal((6, 6))
    h = cr.hessian(lambda v: cr.tanh(cr.tensor(a) @ v).sum())(np.full(6, 0.1))
    assert h.shape == (6, 6)
    assert len(backprop_calls) == 1


def test_vjp_fn_is_one_sweep_per_call_and_can_be_called_again(backprop_calls: list[int]
                                                              ) -> None:
    out, vjp_fn = cr.vjp(_f, X, Y)
    assert backprop_calls == []
    v = np.array([1.0, -2.0, 0.5])
    first = vjp_fn(v)
    second = vjp_fn(cr.tensor(v))
    third = vjp_fn(2 * v)
    assert len(backprop_calls) == 3
    for g1, g2, g3, i in zip(first, second, third, range(2), strict=True):
        assert_close(g1, g2, atol=0, rtol=0)
        assert_close(g3, 2 * np.asarray(g1), atol=1e-12)
        assert_close(g1, np.tensordot(v, numeric_jacobian(_f, [X, Y], i), axes=1))


# ---------------------------------------------------------------- custom gates


class Cube(cr.Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad_out * 3 * x ** 2

    @staticmethod
    def jvp(ctx: Any, x_dot: Any) -> Any:
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * x_dot


class CubeWithoutJvp(cr.Function):
    """Cube's forward and backward, and no forward-mode rule."""

    forward = staticmethod(Cube.forward)
    backward = staticmethod(Cube.backward)


def test_custom_gate_under_jvp_uses_its_jvp_rule(backprop_calls: list[int]) -> None:
    x = np.array([0.5, -1.0, 2.0])
    t = np.array([1.0, 2.0, -1.0])
    out, t_out = cr.jvp(lambda v: cr.sin(Cube.apply(v)), (x,), (t,))
    assert_close(out, np.sin(x ** 3), atol=1e-12)
    assert_close(t_out, np.cos(x ** 3) * 3 * x ** 2 * t, atol=1e-12)
    assert_close(cr.jacfwd(Cube.apply)(x), np.diag(3 * x ** 2), atol=1e-12)
    assert backprop_calls == []
    # and the gate's backward for the reverse transforms
    assert_close(cr.jacrev(Cube.apply)(x), np.diag(3 * x ** 2), atol=1e-12)


def test_custom_gate_jvp_is_differentiable_again() -> None:
    # the jvp rule is written with tensor ops, so forward-over-forward works
    assert cr.jacfwd(cr.jacfwd(lambda v: Cube.apply(v)))(1.5).item() == pytest.approx(9.0)


def test_custom_gate_without_jvp_says_what_to_define() -> None:
    x = np.array([0.5, -1.0])
    with pytest.raises(NotImplementedError, match=r"CubeWithoutJvp has no forward-mode rule") as e:
        cr.jvp(CubeWithoutJvp.apply, (x,), (np.ones(2),))
    assert "jvp(ctx, *tangents)" in str(e.value)
    with pytest.raises(NotImplementedError, match="CubeWithoutJvp"):
        cr.jacfwd(CubeWithoutJvp.apply)(x)
    # reverse mode does not need the rule
    assert_close(cr.jacrev(CubeWithoutJvp.apply)(x), np.diag(3 * x ** 2), atol=1e-12)


# ---------------------------------------------------------------- broadcasting tangents


def test_jvp_through_a_broadcasting_add_has_the_outputs_shape() -> None:
    a, b = np.ones((3, 1)), np.arange(4.0)
    out, t_out = cr.jvp(lambda u: u + b, (a,), (np.ones((3, 1)),))
    assert t_out.shape == out.shape == (3, 4)


def test_jvp_through_a_broadcasting_add_then_sum_counts_every_copy() -> None:
    a, b = np.ones((3, 1)), np.arange(4.0)
    _, t_out = cr.jvp(lambda u: (u + b).sum(), (a,), (np.ones((3, 1)),))
    assert t_out.item() == pytest.approx(12.0)  # each of the 3 elements is used 4 times


def test_jvp_through_broadcasting_ops_that_multiply() -> None:
    # mul, div, maximum, where-then-mul broadcast through their rule: these are right
    a, b = np.array([[1.0], [2.0], [3.0]]), np.array([0.5, 1.5, 2.5, 5.0])
    for f in (lambda u: u * b, lambda u: b / u, lambda u: cr.maximum(u, b)):
        out, t_out = cr.jvp(f, (a,), (np.ones((3, 1)),))
        assert t_out.shape == out.shape == (3, 4)
        assert_close(t_out, numeric_jacobian(f, [a]).reshape(12, 3).sum(1).reshape(3, 4))


def test_jvp_keeps_the_primal_dtype() -> None:
    x = np.array([1.0, 2.0], dtype=np.float32)
    out, t_out = cr.jvp(lambda v: v * 2, (x,), (np.ones(2),))  # a float64 tangent
    assert out.dtype == t_out.dtype == np.float32


def test_jvp_of_a_function_that_ignores_its_input_is_zero() -> None:
    out, t_out = cr.jvp(lambda v: cr.tensor([3.0, 1.0]), (np.ones(2),), (np.ones(2),))
    assert_close(t_out, np.zeros(2), atol=0)
    assert t_out.shape == out.shape
