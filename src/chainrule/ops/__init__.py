"""The built-in ops, one module per family, and the Tensor methods that call them."""

from __future__ import annotations

import numbers
from typing import Any

from ..backend import ndarray, xp
from ..tensor import Tensor, _leaf, apply1, apply2
from . import conv, elementwise, linalg, reduce, shape
from .elementwise import add, div, mul, neg, sub
from .elementwise import pow as pow_op

_OPERAND = (Tensor, numbers.Number, ndarray, xp.generic)
_FAST = {Tensor, float, int, ndarray}  # checked by type first: isinstance on an ABC is slow


def _binary(op: Any, reflected: bool = False) -> Any:
    if reflected:
        def method(self: Tensor, other: Any) -> Any:
            if type(other) not in _FAST and not isinstance(other, _OPERAND):
                return NotImplemented
            return apply2(op, other, self)
    else:
        def method(self: Tensor, other: Any) -> Any:
            if type(other) not in _FAST and not isinstance(other, _OPERAND):
                return NotImplemented
            return apply2(op, self, other)
    return method


def _compare(fn: Any) -> Any:
    def method(self: Tensor, other: Any) -> Any:
        if not isinstance(other, _OPERAND):
            return NotImplemented
        o = other.data if isinstance(other, Tensor) else other
        return _leaf(fn(self.data, o))  # comparisons are not differentiable

    return method


def _matmul(self: Tensor, other: Any) -> Any:
    if not isinstance(other, _OPERAND):
        return NotImplemented
    return linalg.matmul(self, other)


def _rmatmul(self: Tensor, other: Any) -> Any:
    if not isinstance(other, _OPERAND):
        return NotImplemented
    return linalg.matmul(other, self)


def _pow(self: Tensor, other: Any) -> Any:
    if not isinstance(other, _OPERAND):
        return NotImplemented
    return apply2(pow_op, self, other)


_METHODS: dict[str, Any] = {
    "__add__": _binary(add), "__radd__": _binary(add, True),
    "__sub__": _binary(sub), "__rsub__": _binary(sub, True),
    "__mul__": _binary(mul), "__rmul__": _binary(mul, True),
    "__truediv__": _binary(div), "__rtruediv__": _binary(div, True),
    "__pow__": _pow, "__rpow__": _binary(pow_op, True),
    "__matmul__": _matmul, "__rmatmul__": _rmatmul,
    "__neg__": lambda self: apply1(neg, self),
    "__pos__": lambda self: self,
    "__lt__": _compare(xp.less), "__le__": _compare(xp.less_equal),
    "__gt__": _compare(xp.greater), "__ge__": _compare(xp.greater_equal),
    "__eq__": _compare(xp.equal), "__ne__": _compare(xp.not_equal),
    "__invert__": lambda self: _leaf(xp.invert(self.data)),
    "__and__": _compare(xp.logical_and), "__or__": _compare(xp.logical_or),
    "clip": elementwise.clip,
    "maximum": elementwise.maximum_, "minimum": elementwise.minimum_,
    "sum": reduce.sum, "mean": reduce.mean, "max": reduce.max, "min": reduce.min,
    "prod": reduce.prod, "var": reduce.var, "std": reduce.std,
    "logsumexp": reduce.logsumexp, "softmax": reduce.softmax,
    "log_softmax": reduce.log_softmax,
    "reshape": shape.reshape, "view": shape.reshape, "permute": shape.permute,
    "transpose": shape.transpose, "expand": shape.expand,
    "broadcast_to": shape.broadcast_to, "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze, "flatten": shape.flatten, "pad": shape.pad,
    "astype": shape.astype, "matmul": linalg.matmul,
    "T": property(lambda self: shape.permute(self, tuple(range(self.ndim - 1, -1, -1)))),
    "mT": property(lambda self: shape.transpose(self, -2, -1)),
}

for _op in (elementwise.exp, elementwise.log, elementwise.sqrt, elementwise.tanh,
            elementwise.sigmoid, elementwise.relu, elementwise.abs, elementwise.sin,
            elementwise.cos, elementwise.erf):
    _METHODS[_op.name] = (lambda op: lambda self: apply1(op, self))(_op)
_METHODS["__abs__"] = _METHODS["abs"]

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

__all__ = ["conv", "elementwise", "linalg", "reduce", "shape"]
