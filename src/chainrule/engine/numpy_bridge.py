"""When NumPy meets a Tensor.

``array + t`` asks NumPy first; NumPy hands it to ``Tensor.__array_ufunc__``,
which runs the Tensor's own operator (``t.__radd__(array)``), so the result is
recorded as if the Tensor had been on the left. ``np.exp(t)`` runs ``t.exp()``.
Writing into an array (``p.data -= lr * p.grad``, ``np.add(a, t, out=a)``)
computes on the arrays: no graph. Any other ufunc is refused, with what to
use instead.
"""

from __future__ import annotations

from typing import Any

from ..ops._util import raw
from .base import TensorBase

# The ufuncs a Tensor answers, by the method that runs each.
UFUNCS = {
    "add": "__add__", "subtract": "__sub__", "multiply": "__mul__", "divide": "__truediv__",
    "true_divide": "__truediv__", "power": "__pow__", "matmul": "__matmul__",
    "less": "__lt__", "less_equal": "__le__", "greater": "__gt__", "greater_equal": "__ge__",
    "equal": "__eq__", "not_equal": "__ne__", "maximum": "maximum", "minimum": "minimum",
    "negative": "__neg__", "absolute": "abs", "exp": "exp", "log": "log", "log1p": "log1p",
    "sqrt": "sqrt", "tanh": "tanh", "sin": "sin", "cos": "cos",
}
# Where the array is on the left, the right-hand operand's method: array - t is t.__rsub__(array).
REFLECTED = {
    "__add__": "__radd__", "__sub__": "__rsub__", "__mul__": "__rmul__",
    "__truediv__": "__rtruediv__", "__pow__": "__rpow__", "__matmul__": "__rmatmul__",
    "__lt__": "__gt__", "__le__": "__ge__", "__gt__": "__lt__", "__ge__": "__le__",
    "__eq__": "__eq__", "__ne__": "__ne__", "maximum": "maximum", "minimum": "minimum",
}


def array_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict[str, Any]) -> Any:
    if "out" in kwargs:  # into a plain array: no graph
        if any(isinstance(o, TensorBase) for o in kwargs["out"]):
            return NotImplemented
        return getattr(ufunc, method)(*(raw(i) for i in inputs), **kwargs)
    name = UFUNCS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
    if name is None:
        raise TypeError(
            f"numpy.{ufunc.__name__} on a Tensor: chainrule has no differentiable "
            f"{ufunc.__name__}; use t.numpy() for the array, or chainrule's own ops"
        )
    if len(inputs) == 1:
        return getattr(inputs[0], name)()
    a, b = inputs
    if isinstance(a, TensorBase):
        return getattr(a, name)(b)
    return getattr(b, REFLECTED[name])(a)
