"""The Tensor namespace a derivative rule receives as ``m`` when the
derivative must itself be differentiable. It offers the same names as
``chainrule.backend`` (the array namespace), each recorded as a graph op."""

from __future__ import annotations

from typing import Any

from ..backend import xp
from ..tensor import Tensor, _leaf
from . import conv, elementwise, linalg, reduce, shape
from ._util import raw

exp = elementwise.exp_
log = elementwise.log_
sqrt = elementwise.sqrt_
sin = elementwise.sin_
cos = elementwise.cos_
tanh = elementwise.tanh_
abs = elementwise.abs_
erf = elementwise.erf_
maximum = elementwise.maximum_
minimum = elementwise.minimum_
where = elementwise.where
matmul = linalg.matmul
concatenate = shape.concatenate
reshape = shape.reshape
broadcast_to = shape.broadcast_to
sum_to = shape.sum_to
index_add = shape.index_add
unfold2d = conv.unfold2d
fold2d = conv.fold2d


def sign(x: Any) -> Tensor:
    return _leaf(xp.sign(raw(x)))  # piecewise constant: no derivative to record


def swapaxes(x: Any, a: int, b: int) -> Tensor:
    return shape.transpose(x, a, b)


def transpose(x: Any, axes: Any) -> Tensor:
    return shape.permute(x, tuple(axes))


def expand_dims(x: Any, axes: Any) -> Tensor:
    nd = x.ndim + (len(axes) if isinstance(axes, tuple) else 1)
    new = list(x.shape)
    for a in sorted(a % nd for a in (axes if isinstance(axes, tuple) else (axes,))):
        new.insert(a, 1)
    return shape.reshape(x, tuple(new))


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return reduce.sum(x, axis, keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return reduce.prod(x, axis, keepdims)


def pad(x: Any, widths: Any, value: float = 0.0) -> Tensor:
    return shape.pad(x, widths, value)


def zeros(shape_: Any, dtype: Any = None) -> Tensor:
    return _leaf(xp.zeros(shape_, dtype=dtype))


def ones(shape_: Any, dtype: Any = None) -> Tensor:
    return _leaf(xp.ones(shape_, dtype=dtype))


def zeros_like(x: Any) -> Tensor:
    return _leaf(xp.zeros_like(raw(x)))


def ones_like(x: Any) -> Tensor:
    return _leaf(xp.ones_like(raw(x)))

