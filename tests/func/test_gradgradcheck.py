"""``cr.gradgradcheck`` on every differentiable op family, on hypothesis-drawn
shapes; and the checker must catch a rule that is right at first order only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from strategies import (
    NONZERO,
    POSITIVE,
    REAL,
    arrays,
    axes,
    broadcastable_shapes,
    distinct_arrays,
    index_arrays,
    shapes,
)

SMALL = {"max_dims": 2, "max_side": 3}

# name -> (function of tensors, how to draw its inputs)
Draw = Callable[[st.DataObject], tuple[np.ndarray, ...]]


def _one(domain: Any, min_dims: int = 0) -> Draw:
    return lambda data: (data.draw(arrays(shapes(min_dims=min_dims, **SMALL), domain)),)


def _two(da: Any = REAL, db: Any = REAL) -> Draw:
    def draw(data: st.DataObject) -> tuple[np.ndarray, ...]:
        sa, sb = data.draw(broadcastable_shapes(2, **SMALL))
        return data.draw(arrays(sa, da)), data.draw(arrays(sb, db))

    return draw


def _matmul(data: st.DataObject) -> tuple[np.ndarray, ...]:
    n, k, p = (data.draw(st.integers(1, 3)) for _ in range(3))
    sa = (k,) if data.draw(st.booleans()) else (n, k)
    sb = (k,) if data.draw(st.booleans()) else (k, p)
    return data.draw(arrays(sa, REAL)), data.draw(arrays(sb, REAL))


def _distinct(data: st.DataObject) -> tuple[np.ndarray, ...]:
    """Values at least 0.3 apart, every axis of size >= 2 (no ties, a spread to divide by)."""
    shape = data.draw(shapes(min_dims=1, min_side=2, **SMALL))
    return (data.draw(distinct_arrays(shape, gap=0.3)),)


def _image(data: st.DataObject) -> tuple[np.ndarray, ...]:
    h, w = data.draw(st.integers(2, 3)), data.draw(st.integers(2, 3))
    return (data.draw(arrays((1, data.draw(st.integers(1, 2)), h, w), REAL)),)


OPS: dict[str, tuple[Callable[..., Any], Draw]] = {
    "exp": (cr.exp, _one(REAL)),
    "log": (cr.log, _one(POSITIVE)),
    "sqrt": (cr.sqrt, _one(POSITIVE)),
    "tanh": (cr.tanh, _one(REAL)),
    "sigmoid": (cr.sigmoid, _one(REAL)),
    "sin": (cr.sin, _one(REAL)),
    "cos": (cr.cos, _one(REAL)),
    "erf": (cr.erf, _one(REAL)),
    "relu_squared": (lambda x: cr.relu(x) * x, _one(NONZERO)),
    "abs_times_x": (lambda x: cr.abs(x) * x, _one(NONZERO)),
    "pow_const": (lambda x: x ** 3.5, _one(POSITIVE)),
    "add": (lambda a, b: (a + b) ** 2, _two()),
    "sub": (lambda a, b: (a - b) ** 2, _two()),
    "mul": (lambda a, b: a * b, _two()),
    "div": (lambda a, b: a / b, _two(REAL, NONZERO)),
    "pow": (lambda a, b: a ** b, _two(POSITIVE, REAL)),
    "where": (lambda a, b: cr.where(a > 0, a * b, b * b), _two(NONZERO, REAL)),
    "sum_squares": (lambda x: (x * x).sum(axis=-1), _one(REAL, 1)),
    "mean_cubed": (lambda x: x.mean(axis=0) ** 3, _one(REAL, 1)),
    "prod": (lambda x: x.prod(axis=-1), _one(NONZERO, 1)),
    "var": (lambda x: x.var(), _distinct),
    "std": (lambda x: x.std(axis=-1), _distinct),
    "max_times_x": (lambda x: x.max(axis=-1, keepdims=True) * x, _distinct),
    "logsumexp": (lambda x: cr.logsumexp(x, axis=-1), _one(REAL, 1)),
    "softmax": (lambda x: cr.softmax(x, axis=0), _one(REAL, 1)),
    "log_softmax": (lambda x: cr.log_softmax(x, axis=-1), _one(REAL, 1)),
    "matmul": (lambda a, b: a @ b, _matmul),
    "matmul_tanh": (lambda a, b: cr.tanh(a @ b), _matmul),
    "transpose_reshape": (lambda x: (x.T.reshape(-1) ** 2), _one(REAL, 1)),
    "concatenate_pad": (lambda a, b: cr.pad(cr.concatenate([a * b, a], axis=-1), 1) ** 2,
                        lambda data: (data.draw(arrays((2, 3), REAL)),) * 2),
    "unfold2d": (lambda x: cr.unfold2d(x, 2, padding=1) ** 2, _image),
}


@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_gradgradcheck_passes(name: str, data: st.DataObject) -> None:
    fn, draw = OPS[name]
    assert cr.gradgradcheck(fn, draw(data)) is True


@given(data=st.data())
def test_gradgradcheck_getitem_with_integer_arrays(data: st.DataObject) -> None:
    x = data.draw(arrays(shapes(min_dims=2, **SMALL), REAL))
    idx = data.draw(index_arrays(x.shape[0], max_len=3))
    assert cr.gradgradcheck(lambda t: t[idx] ** 2, (x,))


@given(data=st.data(), keepdims=st.booleans())
def test_gradgradcheck_sum_over_drawn_axes(data: st.DataObject, keepdims: bool) -> None:
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3, max_side=3), REAL))
    axis = data.draw(axes(x.ndim))
    assert cr.gradgradcheck(lambda t: cr.sin(t).sum(axis=axis, keepdims=keepdims), (x,))


class FirstOrderOnlyCube(cr.Function):
    """x³ whose backward cuts the graph (uses raw data): right gradient, wrong Hessian."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad_out * cr.tensor(3 * x.data ** 2)


def test_the_checker_catches_a_rule_that_is_right_at_first_order_only() -> None:
    x = np.array([0.5, -1.0, 2.0])
    assert cr.gradcheck(FirstOrderOnlyCube.apply, (x,))
    with pytest.raises(cr.GradcheckError, match=r"analytic .* but numerical"):
        cr.gradgradcheck(FirstOrderOnlyCube.apply, (x,))
