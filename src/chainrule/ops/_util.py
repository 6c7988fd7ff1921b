"""Small helpers the derivative rules share."""

from __future__ import annotations

from typing import Any

from ..backend import ndarray, xp
from ..tensor import Tensor, _leaf, operand_error


def raw(x: Any) -> Any:
    """The array inside a Tensor (for masks and other non-differentiable pieces of a rule)."""
    return x.data if isinstance(x, Tensor) else x


def operand(x: Any, where: str) -> Tensor:
    """``x`` as a Tensor: a Tensor as it is, a numeric ndarray or number as a constant.

    Anything else is a TypeError naming ``where`` and the type, rather than an
    AttributeError from deep inside an op.
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (int, float, ndarray, xp.generic)):
        arr = xp.asarray(x)
        if arr.dtype.kind in "biufc":
            return _leaf(arr)
        what = f"{type(x).__name__} of dtype {arr.dtype}"
    else:
        what = type(x).__name__
    raise operand_error(where, what)


def lead(g: Any, out: Any) -> tuple[int, ...]:
    """The leading batch axes ``g`` carries beyond the shape of ``out``."""
    nd = out.ndim if hasattr(out, "ndim") else 0
    return tuple(g.shape[: g.ndim - nd])


def norm_axes(axis: Any, ndim: int, where: str) -> tuple[int, ...]:
    """``axis`` (None, int or tuple) as a sorted tuple of negative axes, checked."""
    if axis is None:
        return tuple(range(-ndim, 0))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        if not isinstance(a, (int, xp.integer)) or isinstance(a, bool):
            raise TypeError(f"{where}: axis must be an int or a tuple of ints, got {axis!r}")
        a = int(a)
        if not -ndim <= a < ndim:
            raise IndexError(
                f"{where}: axis {a} is out of range for a tensor with {ndim} dimension(s)"
            )
        out.append(a - ndim if a >= 0 else a)
    if len(set(out)) != len(out):
        raise ValueError(f"{where}: axis {axis!r} repeats an axis")
    return tuple(sorted(out))
