"""Each op family under the transforms, on hypothesis-drawn shapes, axes and
indices: jacrev, jacfwd, jvp, vjp and the Hessian against central differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import given, settings
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
    grid_arrays,
    index_arrays,
    shapes,
)

from .helpers import check_first_order, check_hessian

SMALL = {"max_dims": 3, "max_side": 3}

UNARY: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "exp": (cr.exp, REAL), "log": (cr.log, POSITIVE), "sqrt": (cr.sqrt, POSITIVE),
    "tanh": (cr.tanh, REAL), "sigmoid": (cr.sigmoid, REAL), "sin": (cr.sin, REAL),
    "cos": (cr.cos, REAL), "erf": (cr.erf, REAL), "relu": (cr.relu, NONZERO),
    "abs": (cr.abs, NONZERO), "cube": (lambda x: x ** 3, REAL),
    "reciprocal": (lambda x: 1.0 / x, NONZERO),
}


@given(data=st.data(), name=st.sampled_from(sorted(UNARY)))
def test_unary(data: st.DataObject, name: str) -> None:
    fn, domain = UNARY[name]
    x = data.draw(arrays(shapes(**SMALL), domain))
    check_first_order(fn, [x])
    check_hessian(fn, [x])


BINARY: dict[str, tuple[Callable[[Any, Any], Any], Any, Any]] = {
    "add": (lambda a, b: a + b, REAL, REAL),
    "sub": (lambda a, b: a - b, REAL, REAL),
    "mul": (lambda a, b: a * b, REAL, REAL),
    "div": (lambda a, b: a / b, REAL, NONZERO),
    "pow": (lambda a, b: a ** b, POSITIVE, REAL),
}


@given(data=st.data(), name=st.sampled_from(sorted(BINARY)))
def test_binary_with_broadcasting(data: st.DataObject, name: str) -> None:
    fn, da, db = BINARY[name]
    sa, sb = data.draw(broadcastable_shapes(2, **SMALL))
    a, b = data.draw(arrays(sa, da)), data.draw(arrays(sb, db))
    check_first_order(fn, [a, b])
    check_hessian(fn, [a, b])
    check_hessian(lambda b_, a_: fn(a_, b_), [b, a])


@given(data=st.data(), which=st.sampled_from(["maximum", "minimum"]))
def test_maximum_minimum_with_broadcasting(data: st.DataObject, which: str) -> None:
    fn = cr.maximum if which == "maximum" else cr.minimum
    sa, sb = data.draw(broadcastable_shapes(2, **SMALL))
    a, b = data.draw(grid_arrays(sa, 0.25)), data.draw(grid_arrays(sb, 0.75))  # never tied
    check_first_order(fn, [a, b])
    check_hessian(lambda a_, b_: fn(a_, b_) * a_, [a, b])


REDUCTIONS: dict[str, Callable[..., Any]] = {
    "sum": cr.sum, "mean": cr.mean, "max": cr.max, "min": cr.min, "prod": cr.prod,
    "var": cr.var, "std": cr.std, "logsumexp": cr.logsumexp,
}


@given(data=st.data(), name=st.sampled_from(sorted(REDUCTIONS)), keepdims=st.booleans())
def test_reductions_over_axes(data: st.DataObject, name: str, keepdims: bool) -> None:
    shape = data.draw(shapes(min_dims=1, **SMALL))
    axis = data.draw(axes(len(shape), allow_empty=False))
    reduced = shape if axis is None else [shape[a] for a in np.atleast_1d(axis)]
    if name in ("var", "std") and int(np.prod(reduced)) < 2:
        axis = None  # a variance over one element has no spread (std is not differentiable)
        if int(np.prod(shape)) < 2:
            shape = shape + (2,)
    x = data.draw(distinct_arrays(shape, gap=0.3))  # no ties for max / min, no zero spread
    if name == "prod":
        x = np.where(x >= 0, x + 0.4, x - 0.4)  # away from 0
    fn = REDUCTIONS[name]

    def f(t: Any) -> Any:
        return fn(t, axis=axis, keepdims=keepdims)

    check_first_order(f, [x])
    check_hessian(f, [x])


@given(data=st.data(), name=st.sampled_from(["softmax", "log_softmax"]))
def test_softmax_family(data: st.DataObject, name: str) -> None:
    shape = data.draw(shapes(min_dims=1, **SMALL))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(arrays(shape, REAL))
    fn = cr.softmax if name == "softmax" else cr.log_softmax

    def f(t: Any) -> Any:
        return fn(t, axis=axis)

    check_first_order(f, [x])
    check_hessian(f, [x])


@given(data=st.data())
def test_getitem_with_integer_arrays(data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1, **SMALL))
    x = data.draw(arrays(shape, REAL))
    idx = data.draw(index_arrays(shape[0], max_len=4))  # always repeats an element
    check_first_order(lambda t: t[idx], [x])
    check_hessian(lambda t: t[idx], [x])
    if len(shape) >= 2:  # one array per axis, and arrays split by a slice
        idx2 = data.draw(_same_length(idx, shape[1]))
        check_first_order(lambda t: t[idx, idx2], [x])
    if len(shape) == 3:
        idx3 = data.draw(_same_length(idx, shape[2]))
        check_first_order(lambda t: t[idx, :, idx3], [x])
        check_hessian(lambda t: t[idx, :, idx3], [x])


def _same_length(idx: np.ndarray, n: int) -> st.SearchStrategy[np.ndarray]:
    return st.lists(st.integers(-n, n - 1), min_size=len(idx), max_size=len(idx)).map(
        lambda v: np.asarray(v, dtype=np.int64))


@given(data=st.data(), axis=st.integers(0, 1))
def test_concatenate_and_pad(data: st.DataObject, axis: int) -> None:
    rows, cols = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    a = data.draw(arrays((rows, cols), REAL))
    b = data.draw(arrays((rows, cols + 1) if axis else (rows + 1, cols), REAL))
    widths = data.draw(st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2))] * 2))
    value = data.draw(st.floats(-1, 1))

    def f(a_: Any, b_: Any) -> Any:
        return cr.pad(cr.concatenate([a_, b_, a_], axis=axis), widths, value) * 1.5

    check_first_order(f, [a, b])
    check_hessian(f, [a, b])


@st.composite
def matmul_shapes(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Operand shapes for NumPy's matmul: 1-D vectors, matrices, broadcast batches."""
    n, k, p = (draw(st.integers(1, 3)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable_shapes(2, max_dims=2, max_side=2))
    a = (k,) if draw(st.booleans()) else batch_a + (n, k)
    b = (k,) if draw(st.booleans()) else batch_b + (k, p)
    return a, b


@settings(max_examples=12)
@given(data=st.data())
def test_matmul_vectors_matrices_and_batches(data: st.DataObject) -> None:
    sa, sb = data.draw(matmul_shapes())
    a, b = data.draw(arrays(sa, REAL)), data.draw(arrays(sb, REAL))
    check_first_order(lambda x, y: x @ y, [a, b])
    check_hessian(lambda x, y: x @ y, [a, b])
    check_hessian(lambda y, x: x @ y, [b, a])


@given(data=st.data())
def test_unfold2d(data: st.DataObject) -> None:
    n, c = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    h, w = data.draw(st.integers(2, 4)), data.draw(st.integers(2, 4))
    kernel = (data.draw(st.integers(1, h)), data.draw(st.integers(1, w)))
    stride = data.draw(st.integers(1, 2))
    padding = data.draw(st.integers(0, 1))
    x = data.draw(arrays((n, c, h, w), REAL))

    def f(t: Any) -> Any:
        return cr.unfold2d(t, kernel, stride=stride, padding=padding)

    check_first_order(f, [x])
    check_hessian(f, [x])
