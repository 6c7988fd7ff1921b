"""The built-in ops, one module per family, and the Tensor methods that call them."""

from __future__ import annotations

import numbers
from typing import Any

from ..backend import ndarray, xp
from ..tensor import Tensor, _leaf, binary_method, unary_method
from . import conv, elementwise, linalg, reduce, shape
from .elementwise import add, div, mul, neg, sub
from .elementwise import pow as pow_op

_OPERAND = (Tensor, numbers.Number, ndarray, xp.generic)


def _compare(fn: Any) -> Any:
    def method(self: Tensor, other: Any) -> Any:
        if not isinstance(other, _OPERAND):
            return NotImplemented
        o = other.data if isinstance(other, Tensor) else other
        return _leaf(fn(self.data, o))  # comparisons are not differentiable

    return method


_METHODS: dict[str, Any] = {
    "__add__": binary_method(add), "__radd__": binary_method(add, True),
    "__sub__": binary_method(sub), "__rsub__": binary_method(sub, True),
    "__mul__": binary_method(mul), "__rmul__": binary_method(mul, True),
    "__truediv__": binary_method(div), "__rtruediv__": binary_method(div, True),
    "__pow__": binary_method(pow_op), "__rpow__": binary_method(pow_op, True),
    "__matmul__": binary_method(linalg.matmul_op),
    "__rmatmul__": binary_method(linalg.matmul_op, True),
    "__neg__": unary_method(neg),
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
    _METHODS[_op.name] = unary_method(_op)
_METHODS["__abs__"] = _METHODS["abs"]

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

__all__ = ["conv", "elementwise", "linalg", "reduce", "shape"]
