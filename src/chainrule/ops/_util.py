"""Small helpers the derivative rules and the argument checks share (no Tensor here)."""

from __future__ import annotations

import numbers
from typing import Any

from ..backend import ndarray, xp

_PLAIN = (ndarray, xp.generic, numbers.Number)


def raw(x: Any) -> Any:
    """The array behind ``x``: ``x`` itself for an array or a number, ``x.data`` for a
    recorded value (a Tensor). Rules use it for masks and other pieces that are
    not differentiated."""
    if type(x) is ndarray or x is None or isinstance(x, _PLAIN):
        return x
    return x.data if hasattr(type(x), "_apply") else x  # a Tensor; else a GPU array


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


def check_axis(axis: int, ndim: int, where: str) -> int:
    """One axis, checked against ``ndim`` dimensions, as a non-negative int."""
    if not isinstance(axis, (int, xp.integer)) or isinstance(axis, bool):
        raise TypeError(f"{where}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise IndexError(f"{where}: axis {axis} is out of range for {ndim} dimension(s)")
    return int(axis) % ndim
