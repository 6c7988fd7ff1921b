"""User-defined gates (``cr.Function``): reverse mode, second order, forward mode,
and the graph lifetime of what they save."""

from __future__ import annotations

import weakref
from typing import Any, ClassVar

import numpy as np
import pytest

import chainrule as cr

from .test_memory import cyclic_garbage, refcounting_only


class Cube(cr.Function):
    calls: ClassVar[dict[str, int]] = {"forward": 0, "backward": 0, "jvp": 0}

    @staticmethod
    def forward(ctx: cr.Context, x: cr.Tensor) -> cr.Tensor:
        Cube.calls["forward"] += 1
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx: cr.Context, grad_out: cr.Tensor) -> cr.Tensor:
        Cube.calls["backward"] += 1
        (x,) = ctx.saved_tensors
        return grad_out * 3 * x**2

    @staticmethod
    def jvp(ctx: cr.Context, x_dot: cr.Tensor) -> cr.Tensor:
        Cube.calls["jvp"] += 1
        (x,) = ctx.saved_tensors
        return 3 * x**2 * x_dot


class Exp(cr.Function):
    """Saves its own output, as exp's backward wants it."""

    @staticmethod
    def forward(ctx: cr.Context, x: cr.Tensor) -> cr.Tensor:
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: cr.Context, grad_out: cr.Tensor) -> cr.Tensor:
        (y,) = ctx.saved_tensors
        return grad_out * y

    @staticmethod
    def jvp(ctx: cr.Context, x_dot: cr.Tensor) -> cr.Tensor:
        (y,) = ctx.saved_tensors
        return x_dot * y


class Scale(cr.Function):
    """x * s with no gradient for the scale (``None``)."""

    seen: ClassVar[list[tuple[bool, ...]]] = []

    @staticmethod
    def forward(ctx: cr.Context, x: cr.Tensor, s: Any) -> cr.Tensor:
        Scale.seen.append(ctx.needs_input_grad)
        ctx.save_for_backward(s)
        return x * s

    @staticmethod
    def backward(ctx: cr.Context, g: cr.Tensor) -> tuple[cr.Tensor, None]:
        (s,) = ctx.saved_tensors
        return g * s, None


class NoJvp(cr.Function):
    @staticmethod
    def forward(ctx: cr.Context, x: cr.Tensor) -> cr.Tensor:
        return x * 2

    @staticmethod
    def backward(ctx: cr.Context, g: cr.Tensor) -> cr.Tensor:
        return g * 2


def _x(*values: float) -> cr.Tensor:
    return cr.tensor(list(values), requires_grad=True)


def test_cube_forward_and_backward() -> None:
    x = _x(1.0, -2.0, 0.5)
    y = Cube.apply(x)
    assert y.requires_grad and not y.is_leaf
    np.testing.assert_allclose(y.data, x.data**3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2)


def test_cube_inside_a_larger_graph() -> None:
    x = _x(0.3, 1.1)
    (Cube.apply(x.sin()) * 2 + Cube.apply(x)).sum().backward()
    s, c = np.sin(x.data), np.cos(x.data)
    np.testing.assert_allclose(x.grad.data, 6 * s**2 * c + 3 * x.data**2)


def test_cube_checks() -> None:
    x = _x(1.0, -2.0, 0.5)
    assert cr.gradcheck(Cube.apply, (x,))
    assert cr.gradgradcheck(Cube.apply, (x,))  # backward is written with tensor ops
    h = cr.hessian(lambda t: Cube.apply(t).sum())(x.detach())
    np.testing.assert_allclose(h.data, np.diag(6 * x.data))


def test_cube_create_graph() -> None:
    x = _x(1.0, 2.0)
    Cube.apply(x).sum().backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)


def test_cube_forward_mode_uses_jvp_not_backward() -> None:
    x = cr.tensor([1.0, -2.0, 0.5])
    t = cr.tensor([0.5, 1.0, -1.0])
    before = dict(Cube.calls)
    out, tangent = cr.jvp(Cube.apply, (x,), (t,))
    assert Cube.calls["jvp"] == before["jvp"] + 1
    assert Cube.calls["backward"] == before["backward"]
    np.testing.assert_allclose(out.data, x.data**3)
    np.testing.assert_allclose(tangent.data, 3 * x.data**2 * t.data)
    np.testing.assert_allclose(cr.jacfwd(Cube.apply)(x).data, np.diag(3 * x.data**2))


def test_gate_saving_its_output() -> None:
    x = _x(0.5, -1.0)
    y = Exp.apply(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp(x.data))
    assert cr.gradcheck(Exp.apply, (x,))
    assert cr.gradgradcheck(Exp.apply, (x,))
    _, tangent = cr.jvp(Exp.apply, (x.detach(),), (cr.ones(2),))
    np.testing.assert_allclose(tangent.data, np.exp(x.data))


def test_gate_saving_its_output_makes_no_cycle() -> None:
    def run() -> None:
        x = _x(0.5, -1.0)
        y = Exp.apply(Exp.apply(x) * 2)
        y.sum().backward()

    def dropped() -> None:
        x = _x(0.5, -1.0)
        Exp.apply(x).sum()

    assert cyclic_garbage(run) == []
    assert cyclic_garbage(dropped) == []


def test_gate_output_and_saved_tensors_freed_by_refcounting() -> None:
    with refcounting_only():
        x = _x(0.5, -1.0)
        h = x * 2  # saved by Cube
        y = Exp.apply(Cube.apply(h))
        h_ref, y_ref = weakref.ref(h), weakref.ref(y)
        ctx = y._parents[0]._node[4]["_ctx"]  # Cube's context, what its forward saved
        del h
        assert h_ref() is not None
        y.sum().backward()
        assert ctx._saved is None  # released by backward; the graph's structure stays
        assert h_ref() is not None
        del y
        assert y_ref() is None and h_ref() is None


def test_gate_with_a_none_gradient() -> None:
    x = _x(1.0, 2.0)
    s = cr.tensor([3.0, 4.0], requires_grad=True)
    Scale.seen.clear()
    Scale.apply(x, s).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])
    assert s.grad is None  # backward gave None for it
    Scale.apply(x, 2.0)
    assert Scale.seen == [(True, True), (True, False)]


def test_gate_used_twice_accumulates() -> None:
    x = _x(1.0, 2.0)
    (Cube.apply(x) + Cube.apply(x)).sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data**2)


def test_gate_on_constants_records_nothing() -> None:
    y = Cube.apply(cr.tensor([1.0, 2.0]))
    assert not y.requires_grad and y.is_leaf
    with cr.no_grad():
        assert not Cube.apply(_x(1.0)).requires_grad


def test_gate_keeps_float32() -> None:
    x = cr.tensor([1.0, 2.0], dtype=cr.float32, requires_grad=True)
    y = Cube.apply(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_gate_backward_twice_needs_retain_graph() -> None:
    x = _x(1.0, 2.0)
    y = Cube.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data**2)
    with pytest.raises(cr.GraphError):
        y.backward()


def test_gate_without_a_jvp_in_forward_mode() -> None:
    with pytest.raises(NotImplementedError, match="NoJvp.*jvp"):
        cr.jvp(NoJvp.apply, (cr.tensor([1.0]),), (cr.tensor([1.0]),))
    x = _x(1.0, 2.0)
    NoJvp.apply(x).sum().backward()  # reverse mode does not need it
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
