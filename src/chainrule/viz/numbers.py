"""Numbers as the notes write them: ``3`` not ``3.0``, a few decimals, and tensors
shown entry by entry up to a modest size (a summary beyond it)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# An explanation shows every entry of a tensor up to this many; a picture, fewer.
TEXT_LIMIT = 64
PICTURE_LIMIT = 16


def format_number(x: float) -> str:
    """A number as the notes write it: ``3`` not ``3.0``, at most 4 decimals.

    >>> format_number(3.0), format_number(-0.5), format_number(2 / 3), format_number(1e-7)
    ('3', '-0.5', '0.6667', '1e-07')
    """
    if not math.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    if 1e-4 <= abs(x) < 1e15:
        text = f"{x:.4f}".rstrip("0").rstrip(".")
        if text not in ("0", "-0"):
            return text
    return f"{x:.4g}"


def _entry(v: Any, kind: str) -> str:
    if kind == "b":
        return str(bool(v))
    if kind in "iuf":
        return format_number(float(v))
    return str(v)


def _nested(a: np.ndarray) -> str:
    if a.ndim == 0:
        return _entry(a.item(), a.dtype.kind)
    return "[" + ", ".join(_nested(row) for row in a) + "]"


def is_small(a: Any, limit: int = TEXT_LIMIT) -> bool:
    return int(np.size(a)) <= limit


def summary(a: np.ndarray) -> str:
    """``shape (8, 10) float32, entries [0.1, -0.2, 0.3, …], norm 2.31``."""
    flat = a.ravel()
    head = ", ".join(_entry(v, a.dtype.kind) for v in flat[:3])
    text = f"shape {tuple(a.shape)} {a.dtype}, entries [{head}{', …' if flat.size > 3 else ''}]"
    if a.dtype.kind in "iuf":
        with np.errstate(all="ignore"):
            norm = float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))
        text += f", norm {format_number(norm)}"
    return text


def array_text(a: Any, limit: int = TEXT_LIMIT) -> str:
    """A number or array on one line: ``3``, ``[[1, 2], [3, 4]]``, or a summary."""
    arr = np.asarray(a)
    if arr.size > limit:
        return summary(arr)
    return _nested(arr)


def array_lines(a: Any, limit: int = PICTURE_LIMIT) -> list[str]:
    """The same for a picture's box: one line per row of a matrix, a summary on
    two lines (its shape, then its first entries and norm)."""
    arr = np.asarray(a)
    if arr.size > limit:
        shape, _, rest = summary(arr).partition(", ")
        return [shape, rest]
    if arr.ndim == 2 and arr.shape[0] > 1:
        rows = [_nested(row) for row in arr]
        return ["[" + rows[0] + ","] + [" " + r + "," for r in rows[1:-1]] + [" " + rows[-1] + "]"]
    return [_nested(arr)]
