"""The namespace a derivative rule computes with when its own derivative is needed.

A rule is written once against a namespace ``m`` (``m.exp``, ``m.matmul``,
...). In the everyday first-order backward pass ``m`` is ``chainrule.backend``
and the values are arrays. When the derivative must itself be differentiable
(``backward(create_graph=True)``, nested transforms, forward mode) ``m`` is
this module and the values are Tensors: each call below records the
registry's op, so the rule becomes a graph of its own.

This layer never imports ``Tensor``: a call is recorded through the value it
is given (``value._apply(op, ...)``), and values that are all constants are
computed on the spot.
"""

from __future__ import annotations

import builtins
from typing import Any

from .. import backend
from . import conv, elementwise, linalg, reduce, shape
from ._util import norm_axes, raw
from .op import Op


def _run(op: Op, *args: Any, **params: Any) -> Any:
    """Record ``op`` on ``args`` through the first of them that is recorded (a Tensor);
    with only constants, just compute it."""
    for a in args:
        if hasattr(a, "_apply"):
            return a._apply(op, *args, **params)
    return op.forward(*args, **params)


def exp(x: Any) -> Any:
    return _run(elementwise.exp, x)


def log(x: Any) -> Any:
    return _run(elementwise.log, x)


def sqrt(x: Any) -> Any:
    return _run(elementwise.sqrt, x)


def sin(x: Any) -> Any:
    return _run(elementwise.sin, x)


def cos(x: Any) -> Any:
    return _run(elementwise.cos, x)


def tanh(x: Any) -> Any:
    return _run(elementwise.tanh, x)


def abs(x: Any) -> Any:
    return _run(elementwise.abs, x)


def erf(x: Any) -> Any:
    return _run(elementwise.erf, x)


def sign(x: Any) -> Any:
    return backend.sign(raw(x))  # piecewise constant: no derivative to record


def maximum(a: Any, b: Any) -> Any:
    return _run(elementwise.maximum, a, b)


def minimum(a: Any, b: Any) -> Any:
    return _run(elementwise.minimum, a, b)


def where(cond: Any, a: Any, b: Any) -> Any:
    return _run(elementwise.where, raw(cond), a, b)


def matmul(a: Any, b: Any) -> Any:
    return _run(linalg.matmul, a, b)


def _ndim(x: Any) -> int:
    return len(backend.xp.shape(raw(x)))


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _run(reduce.sum, x, axes=norm_axes(axis, _ndim(x), "sum"), keepdims=keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _run(reduce.prod, x, axes=norm_axes(axis, _ndim(x), "prod"), keepdims=keepdims)


def reshape(x: Any, new: Any) -> Any:
    return _run(shape.reshape, x, shape=tuple(new))


def transpose(x: Any, axes: Any) -> Any:
    return _run(shape.transpose, x, perm=tuple(a % _ndim(x) for a in axes))


def swapaxes(x: Any, a: int, b: int) -> Any:
    return _run(shape.transpose, x, perm=shape.swap(a, b, _ndim(x)))


def expand_dims(x: Any, axes: Any) -> Any:
    axes = axes if isinstance(axes, tuple) else (axes,)
    new = list(backend.xp.shape(raw(x)))
    for a in sorted(a % (len(new) + len(axes)) for a in axes):
        new.insert(a, 1)
    return reshape(x, new)


def broadcast_to(x: Any, new: Any) -> Any:
    return _run(shape.broadcast_to, x, shape=tuple(new))


def sum_to(x: Any, new: Any, keep: int = 0) -> Any:
    return _run(shape.sum_to, x, shape=tuple(new), keep=keep)


def index_add(values: Any, new: Any, index: Any) -> Any:
    return _run(shape.index_add, values, shape=tuple(new), index=index,
                split=shape.splits_advanced(index))


def concatenate(parts: Any, axis: int = 0) -> Any:
    nd = _ndim(parts[0])
    return _run(shape.concatenate, *parts, axis=axis - nd if axis >= 0 else axis)


def pad(x: Any, widths: Any, value: float = 0.0) -> Any:
    return _run(shape.pad, x, widths=tuple(builtins.map(tuple, widths)), value=value)


def to_device(x: Any, device: Any) -> Any:
    return _run(shape.to_device, x, device=device)


def unfold2d(x: Any, kernel: Any, stride: Any, padding: Any) -> Any:
    return _run(conv.unfold2d, x, kernel=kernel, stride=stride, padding=padding)


def fold2d(cols: Any, size: Any, kernel: Any, stride: Any, padding: Any) -> Any:
    return _run(conv.fold2d, cols, size=size, kernel=kernel, stride=stride, padding=padding)


# Constants: arrays, which any op takes as an input that needs no gradient.
def zeros_of(shape: Any, dtype: Any, like: Any) -> Any:
    return backend.zeros_of(shape, dtype, raw(like))


def zeros_like(x: Any) -> Any:
    return backend.zeros_like(raw(x))


def ones_like(x: Any) -> Any:
    return backend.ones_like(raw(x))
