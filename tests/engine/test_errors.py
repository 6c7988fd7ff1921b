"""Bad input gets a specific exception that names the operation and what was wrong
with it; the gradient checker itself reports what it found."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr


def _t(*shape: int) -> cr.Tensor:
    return cr.ones(*shape, requires_grad=True)


# ---------------------------------------------------------------- shapes
SHAPE_ERRORS: list[tuple[str, Callable[[], Any], str, tuple[tuple[int, ...], ...]]] = [
    ("add", lambda: _t(2, 3) + _t(4), "add", ((2, 3), (4,))),
    ("sub-ndarray", lambda: _t(2, 3) - np.ones((3, 2)), "sub", ((2, 3), (3, 2))),
    ("mul", lambda: _t(2, 3) * _t(2), "mul", ((2, 3), (2,))),
    ("div", lambda: _t(3) / _t(4), "div", ((3,), (4,))),
    ("pow", lambda: _t(3) ** _t(2), "pow", ((3,), (2,))),
    ("maximum", lambda: cr.maximum(_t(2, 3), _t(4)), "maximum", ((2, 3), (4,))),
    ("where", lambda: cr.where(np.ones(2, bool), _t(3), _t(3)), "where", ((2,), (3,))),
    ("matmul", lambda: _t(2, 3) @ _t(4, 5), "matmul", ((2, 3), (4, 5))),
    ("matmul-vector", lambda: _t(2, 3) @ _t(4), "matmul", ((2, 3), (4,))),
    ("vector-matmul", lambda: _t(4) @ _t(2, 3), "matmul", ((4,), (2, 3))),
    ("matmul-batch", lambda: _t(2, 2, 3) @ _t(3, 3, 3), "matmul", ((2, 2, 3), (3, 3, 3))),
    ("reshape", lambda: _t(2, 3).reshape(4), "reshape", ((2, 3), (4,))),
    ("view", lambda: _t(2, 3).view(4, -1), "reshape", ((2, 3), (4, -1))),
    ("concatenate", lambda: cr.concatenate([_t(2, 3), _t(3, 2)], 1), "concatenate",
     ((2, 3), (3, 2))),
    ("concatenate-ndim", lambda: cr.concatenate([_t(2, 3), _t(3)]), "concatenate",
     ((2, 3), (3,))),
    ("stack", lambda: cr.stack([_t(2, 3), _t(3, 2)]), "stack", ((2, 3), (3, 2))),
    ("broadcast_to", lambda: cr.broadcast_to(_t(2, 3), (3, 3)), "broadcast_to",
     ((2, 3), (3, 3))),
    ("expand", lambda: _t(2, 3).expand(4, 3), "expand", ((2, 3), (4, 3))),
]


@pytest.mark.parametrize(("name", "make", "op", "shapes"), SHAPE_ERRORS,
                         ids=[c[0] for c in SHAPE_ERRORS])
def test_shape_mismatch_names_the_op_and_the_shapes(
    name: str, make: Callable[[], Any], op: str, shapes: tuple[tuple[int, ...], ...]
) -> None:
    with pytest.raises(cr.ShapeError) as info:
        make()
    assert isinstance(info.value, ValueError)
    msg = str(info.value)
    assert msg.startswith(op), msg
    for shape in shapes:
        assert str(shape) in msg, msg


def test_other_shape_errors() -> None:
    with pytest.raises(cr.ShapeError, match=r"squeeze.*size 3"):
        _t(1, 3).squeeze(1)
    with pytest.raises(cr.ShapeError, match=r"split.*3.*2"):
        cr.split(_t(3), 2)
    with pytest.raises(cr.ShapeError, match="unfold2d"):
        cr.unfold2d(_t(1, 1, 2, 2), 3)
    with pytest.raises(cr.ShapeError, match="fold2d"):
        cr.fold2d(_t(1, 4, 3), (3, 3), 2)
    with pytest.raises(IndexError, match=r"sum: axis 2"):
        _t(2, 3).sum(axis=2)
    with pytest.raises(IndexError, match=r"getitem.*\(2, 3\)"):
        _t(2, 3)[5]
    with pytest.raises(ValueError, match="permute"):
        _t(2, 3).permute(0, 0)


AXIS_ERRORS: list[tuple[str, Callable[[cr.Tensor], Any]]] = [
    ("squeeze", lambda x: x.squeeze(4)),
    ("squeeze", lambda x: x.squeeze(-3)),
    ("squeeze", lambda x: x.squeeze((0, 2))),
    ("flatten", lambda x: x.flatten(2)),
    ("flatten", lambda x: x.flatten(0, -3)),
    ("split", lambda x: cr.split(x, 1, 5)),
    ("stack", lambda x: cr.stack([x, x], 3)),
    ("stack", lambda x: cr.stack([x, x], -4)),
    ("unsqueeze", lambda x: x.unsqueeze(3)),
    ("transpose", lambda x: x.transpose(0, 2)),
    ("concatenate", lambda x: cr.concatenate([x, x], 2)),
    ("sum", lambda x: x.sum((0, 2))),
    ("softmax", lambda x: x.softmax(-3)),
    ("max", lambda x: x.max(2)),
]


@pytest.mark.parametrize(("name", "call"), AXIS_ERRORS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(AXIS_ERRORS)])
def test_axis_out_of_range_is_an_index_error_naming_the_op(
    name: str, call: Callable[[cr.Tensor], Any]
) -> None:
    """An axis outside the tensor never wraps around silently."""
    with pytest.raises(IndexError) as info:
        call(_t(1, 3))
    assert str(info.value).startswith(name), str(info.value)


def test_flatten_with_start_after_end() -> None:
    with pytest.raises(ValueError, match="flatten"):
        _t(2, 3, 4).flatten(2, 1)


def test_pad_with_widths_for_too_many_axes() -> None:
    with pytest.raises(ValueError, match=r"pad.*\(2, 2\)"):
        cr.pad(_t(2, 2), ((1, 1), (1, 1), (1, 1)))


# ---------------------------------------------------------------- types
@pytest.mark.parametrize(
    ("make", "symbol"),
    [
        (lambda x: x + "a", "+"),
        (lambda x: x - None, "-"),
        (lambda x: x / {}, "/"),
        (lambda x: x**"a", "**"),
        (lambda x: x @ "a", "@"),
        (lambda x: x < "a", "<"),
    ],
)
def test_operator_with_a_wrong_type(make: Callable[[cr.Tensor], Any], symbol: str) -> None:
    with pytest.raises(TypeError) as info:
        make(_t(2))
    msg = str(info.value)
    assert symbol in msg or "str" in msg, msg
    assert "Tensor" in msg


UNARY_FUNCTIONS = [
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sin", "cos", "erf",
    "sum", "mean", "max", "min", "var", "std", "logsumexp", "prod", "softmax",
    "log_softmax", "flatten", "squeeze",
]


@pytest.mark.parametrize("name", UNARY_FUNCTIONS)
@pytest.mark.parametrize("bad", ["a", None, object()], ids=["str", "None", "object"])
def test_function_with_a_wrong_type_names_itself_and_the_type(name: str, bad: Any) -> None:
    with pytest.raises(TypeError) as info:
        getattr(cr, name)(bad)
    msg = str(info.value)
    assert name in msg and type(bad).__name__ in msg, msg


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("reshape", lambda v: cr.reshape(v, (1,))),
        ("transpose", lambda v: cr.transpose(v, 0, 1)),
        ("permute", lambda v: cr.permute(v, (0,))),
        ("unsqueeze", lambda v: cr.unsqueeze(v, 0)),
        ("expand", lambda v: cr.expand(v, 2)),
        ("broadcast_to", lambda v: cr.broadcast_to(v, (2,))),
        ("pad", lambda v: cr.pad(v, 1)),
        ("concatenate", lambda v: cr.concatenate([cr.ones(2), v])),
        ("stack", lambda v: cr.stack([v, v])),
        ("split", lambda v: cr.split(v, 2)),
        ("matmul", lambda v: cr.matmul(v, cr.ones(2))),
        ("clip", lambda v: cr.clip(v, 0, 1)),
        ("maximum", lambda v: cr.maximum(cr.ones(2), v)),
        ("where", lambda v: cr.where(np.ones(2, bool), v, cr.ones(2))),
        ("unfold2d", lambda v: cr.unfold2d(v, 1)),
        ("fold2d", lambda v: cr.fold2d(v, 2, 1)),
    ],
)
def test_shape_functions_with_a_wrong_type(name: str, call: Callable[[Any], Any]) -> None:
    with pytest.raises(TypeError) as info:
        call("ab")
    msg = str(info.value)
    assert name in msg and "str" in msg, msg


def test_lists_are_not_tensors() -> None:
    """As with ``cr.exp``, a function of tensors does not take a Python list."""
    for fn in (cr.exp, cr.sum, cr.mean, cr.softmax, cr.flatten):
        with pytest.raises(TypeError, match="list"):
            fn([1.0, 2.0])


@pytest.mark.parametrize("name", UNARY_FUNCTIONS)
def test_functions_take_ndarrays_and_numbers_as_constants(name: str) -> None:
    fn = getattr(cr, name)
    arr = np.array([[0.5, 1.5], [2.0, 3.0]])
    out = fn(arr)
    assert isinstance(out, cr.Tensor) and not out.requires_grad
    np.testing.assert_allclose(out.data, fn(cr.tensor(arr)).data)
    if name not in ("softmax", "log_softmax"):  # these need an axis
        assert isinstance(fn(2.0), cr.Tensor)


def test_tensor_from_bad_data() -> None:
    with pytest.raises(TypeError, match="tensor"):
        cr.tensor("abc")
    with pytest.raises(TypeError, match="tensor"):
        cr.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="where: cond must be boolean"):
        cr.where(_t(2), _t(2), _t(2))


# ---------------------------------------------------------------- the checker itself
class Square(cr.Function):
    @staticmethod
    def forward(ctx: cr.Context, x: cr.Tensor) -> cr.Tensor:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: cr.Context, grad_out: cr.Tensor) -> cr.Tensor:
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x


class WrongSquare(Square):
    @staticmethod
    def backward(ctx: cr.Context, grad_out: cr.Tensor) -> cr.Tensor:
        (x,) = ctx.saved_tensors
        return grad_out * 3 * x  # should be 2x


class SlightlyOffSquare(Square):
    @staticmethod
    def backward(ctx: cr.Context, grad_out: cr.Tensor) -> cr.Tensor:
        (x,) = ctx.saved_tensors
        return grad_out * (2 * x + 1e-8)


class FirstOrderOnlySquare(Square):
    @staticmethod
    def backward(ctx: cr.Context, grad_out: cr.Tensor) -> cr.Tensor:
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x.detach()  # right value, but cut from the graph


class WrongSecondInput(cr.Function):
    """a * b with the rule for b wrong at one element only."""

    @staticmethod
    def forward(ctx: cr.Context, a: cr.Tensor, b: cr.Tensor) -> cr.Tensor:
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: cr.Context, g: cr.Tensor) -> tuple[cr.Tensor, cr.Tensor]:
        a, b = ctx.saved_tensors
        off = np.zeros(a.shape)
        off[1, 0] = 0.5
        return g * b, g * (a + off)


class WrongSecondInputVector(cr.Function):
    """a * b (for vectors) with the rule for b twice too big."""

    forward = staticmethod(WrongSecondInput.forward)

    @staticmethod
    def backward(ctx: cr.Context, g: cr.Tensor) -> tuple[cr.Tensor, cr.Tensor]:
        a, b = ctx.saved_tensors
        return g * b, g * a * 2  # the second is wrong


class Reverse(cr.Function):
    """x[::-1] whose backward forgets to reverse (an off-diagonal mistake)."""

    @staticmethod
    def forward(ctx: cr.Context, x: cr.Tensor) -> cr.Tensor:
        return x[::-1]

    @staticmethod
    def backward(ctx: cr.Context, g: cr.Tensor) -> cr.Tensor:
        return g


def _g(*values: float) -> cr.Tensor:
    return cr.tensor(list(values), requires_grad=True)


def _reported(err: BaseException) -> tuple[float, float]:
    m = re.search(r"analytic (\S+) but numerical (\S+)", str(err))
    assert m, str(err)
    return float(m.group(1)), float(m.group(2))


def test_gradcheck_accepts_a_right_rule() -> None:
    assert cr.gradcheck(Square.apply, (_g(1.0, -2.0, 3.0),)) is True
    assert cr.gradgradcheck(Square.apply, (_g(1.0, -2.0, 3.0),)) is True
    assert cr.gradcheck(SlightlyOffSquare.apply, (_g(1.0, 2.0),)) is True


def test_gradcheck_reports_input_index_and_both_values() -> None:
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradcheck(WrongSquare.apply, (_g(1.0, -2.0, 3.0),))
    assert isinstance(info.value, AssertionError)
    msg = str(info.value)
    assert "input 0" in msg and "[0]" in msg
    analytic, numerical = _reported(info.value)
    assert analytic == pytest.approx(3.0)  # 3x at x = 1: the wrong rule's value
    assert numerical == pytest.approx(2.0, rel=1e-6)  # the true slope
    assert "3 of 9" in msg  # the three diagonal entries disagree


def test_gradcheck_names_the_second_input_and_a_2d_index() -> None:
    a = np.arange(6.0).reshape(3, 2) + 1  # float ndarrays count as inputs too
    b = cr.tensor(np.linspace(-1, 1, 6).reshape(3, 2), requires_grad=True)
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradcheck(WrongSecondInput.apply, (a, b))
    msg = str(info.value)
    assert "input 1[1, 0]" in msg, msg
    analytic, numerical = _reported(info.value)
    assert analytic == pytest.approx(a[1, 0] + 0.5)
    assert numerical == pytest.approx(a[1, 0], rel=1e-6)


def test_gradcheck_sees_an_off_diagonal_mistake() -> None:
    with pytest.raises(cr.GradcheckError, match=r"output\[0\] / d input 0\[0\]"):
        cr.gradcheck(Reverse.apply, (_g(1.0, 2.0, 3.0),))


def test_gradcheck_tolerances() -> None:
    x = (_g(1.0, 2.0),)
    with pytest.raises(cr.GradcheckError):
        cr.gradcheck(SlightlyOffSquare.apply, x, atol=1e-12, rtol=1e-12)


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable() -> None:
    x = (_g(1.0, -2.0, 3.0),)
    assert cr.gradcheck(FirstOrderOnlySquare.apply, x)
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradgradcheck(FirstOrderOnlySquare.apply, x)
    assert "gradcheck" in str(info.value) and "input 0" in str(info.value)


def test_gradcheck_skips_inputs_that_do_not_require_grad() -> None:
    a = cr.tensor([1.0, 2.0])  # a constant: its (wrong) rule is never asked for
    b = _g(3.0, 4.0)
    with pytest.raises(cr.GradcheckError, match="input 1"):
        cr.gradcheck(WrongSecondInputVector.apply, (a, b))
    assert cr.gradcheck(WrongSecondInputVector.apply, (_g(1.0, 2.0), cr.tensor([3.0, 4.0])))


def test_gradcheck_with_nothing_to_check_says_so() -> None:
    with pytest.raises((ValueError, TypeError, cr.GradcheckError)):
        cr.gradcheck(WrongSquare.apply, (cr.tensor([1.0, 2.0]),))


def test_gradcheck_of_a_plain_function_that_is_wrong() -> None:
    def leaky(x: cr.Tensor) -> cr.Tensor:  # the detach hides part of the derivative
        return x * x.detach()

    with pytest.raises(cr.GradcheckError):
        cr.gradcheck(leaky, (_g(1.0, 2.0),))


# ---------------------------------------------------------------- broken gates
class TwoGrads(cr.Function):
    @staticmethod
    def forward(ctx: cr.Context, x: cr.Tensor) -> cr.Tensor:
        return x * 2

    @staticmethod
    def backward(ctx: cr.Context, g: cr.Tensor) -> tuple[cr.Tensor, cr.Tensor]:
        return g * 2, g


class WrongShapeGrad(cr.Function):
    @staticmethod
    def forward(ctx: cr.Context, x: cr.Tensor) -> cr.Tensor:
        return x * 2

    @staticmethod
    def backward(ctx: cr.Context, g: cr.Tensor) -> cr.Tensor:
        return cr.ones(5)


class TwoOutputs(cr.Function):
    @staticmethod
    def forward(ctx: cr.Context, x: cr.Tensor) -> tuple[cr.Tensor, cr.Tensor]:
        return x, x


def test_function_returning_too_many_grads() -> None:
    y = TwoGrads.apply(_t(3)).sum()
    with pytest.raises(TypeError) as info:
        y.backward()
    msg = str(info.value)
    assert "TwoGrads" in msg and "2 gradient(s)" in msg and "1 input(s)" in msg


def test_function_returning_a_grad_of_the_wrong_shape() -> None:
    y = WrongShapeGrad.apply(_t(3)).sum()
    with pytest.raises(cr.ShapeError, match=r"WrongShapeGrad.*\(5,\).*\(3,\)"):
        y.backward()


def test_function_returning_two_outputs() -> None:
    with pytest.raises(TypeError, match="TwoOutputs"):
        TwoOutputs.apply(_t(3))
