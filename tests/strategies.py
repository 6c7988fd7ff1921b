"""Hypothesis strategies shared by the test suites: shapes, broadcastable shape
tuples, axes, and arrays whose values stay inside an operation's domain.

The value domains keep inputs away from the points where a derivative is
undefined or where central differences are unreliable:

``REAL``       anything moderate, for smooth ops (exp, tanh, sin, +, *, ...)
``POSITIVE``   bounded away from 0, for log, sqrt and the base of ``**``
``NONZERO``    either sign but at least 0.3 from 0, for relu, abs and divisors
``distinct_arrays``  all elements at least ``gap`` apart (max/min without ties)
``grid_arrays``      values ``k + offset`` on an integer grid: two grids with
                     different offsets never tie (maximum, minimum, clip)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Domain:
    """A closed interval of magnitudes; ``signed`` mirrors it to the negative side."""

    lo: float
    hi: float
    signed: bool = False

    def elements(self) -> st.SearchStrategy[float]:
        pos = st.floats(self.lo, self.hi, allow_nan=False, allow_subnormal=False)
        if not self.signed:
            return pos
        return st.one_of(pos, pos.map(lambda v: -v))


REAL = Domain(-2.0, 2.0)
WIDE = Domain(-6.0, 6.0)
POSITIVE = Domain(0.5, 2.5)
NONZERO = Domain(0.3, 2.0, signed=True)
NEAR_ONE = Domain(0.5, 1.5, signed=True)  # products of many such factors stay moderate


# ---------------------------------------------------------------- shapes
def shapes(
    *, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[Shape]:
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    num: int = 2, *, min_dims: int = 0, max_dims: int = 3, max_side: int = 4
) -> st.SearchStrategy[tuple[Shape, ...]]:
    """``num`` shapes that broadcast together (size-1 and missing axes included)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side
    ).map(lambda r: tuple(r.input_shapes))


def size_of(shape: Shape) -> int:
    return math.prod(shape)


@st.composite
def axes(draw: Any, ndim: int, *, allow_empty: bool = True) -> None | int | tuple[int, ...]:
    """``None``, one axis, or a tuple of distinct axes (either sign, any order)."""
    if ndim == 0:
        return None
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(
        st.lists(st.integers(0, ndim - 1), unique=True, min_size=0 if allow_empty else 1,
                 max_size=ndim)
    )
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


def reduced_size(shape: Shape, axis: None | int | tuple[int, ...]) -> int:
    """How many elements each reduction over ``axis`` combines."""
    if axis is None:
        return size_of(shape)
    items = axis if isinstance(axis, tuple) else (axis,)
    return math.prod(shape[a] for a in items)


# ---------------------------------------------------------------- arrays
def arrays(
    shape: Shape | st.SearchStrategy[Shape], domain: Domain = REAL, dtype: Any = np.float64
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``shape`` with every element in ``domain``."""
    return hnp.arrays(dtype, shape, elements=domain.elements())


@st.composite
def distinct_arrays(draw: Any, shape: Shape, gap: float = 0.25) -> np.ndarray:
    """Arrays whose elements are pairwise at least ``gap`` apart, in a random order."""
    n = size_of(shape)
    order = draw(st.permutations(range(n)))
    shift = draw(st.floats(0.0, gap / 2))
    values = (np.asarray(order, dtype=np.float64) - (n - 1) / 2) * gap + shift
    return values.reshape(shape)


@st.composite
def arrays_with_zeros(draw: Any, shape: Shape, domain: Domain = NEAR_ONE) -> np.ndarray:
    """Arrays from ``domain`` with some elements (at least one, if any) exactly 0."""
    x = draw(arrays(shape, domain))
    if x.size:
        zeros = draw(st.lists(st.integers(0, x.size - 1), min_size=1, max_size=3))
        x.reshape(-1)[zeros] = 0.0
    return x


def grid_arrays(shape: Shape, offset: float, lo: int = -3, hi: int = 3
                ) -> st.SearchStrategy[np.ndarray]:
    """Arrays with elements ``k + offset`` for integers ``lo <= k <= hi``."""
    return hnp.arrays(np.float64, shape, elements=st.integers(lo, hi).map(lambda k: k + offset))


def masks(shape: Shape) -> st.SearchStrategy[np.ndarray]:
    """Boolean arrays of ``shape`` with at least one True (a selection is never empty)."""
    return hnp.arrays(np.bool_, shape, elements=st.booleans()).filter(lambda m: bool(m.any()))


@st.composite
def index_arrays(draw: Any, n: int, *, max_len: int = 5, ndim: int = 1) -> np.ndarray:
    """Integer indices into an axis of size ``n`` (either sign) that repeat an index."""
    length = draw(st.integers(1, max_len))
    values = draw(st.lists(st.integers(-n, n - 1), min_size=length, max_size=length))
    values.append(values[0] - n if values[0] >= 0 else values[0] + n)  # the same element again
    arr = np.asarray(values, dtype=np.int64)
    if ndim == 2:
        arr = np.concatenate([arr, arr[:1]]) if arr.size % 2 else arr
        arr = arr.reshape(2, -1)
    return arr


# ---------------------------------------------------------------- basic indices
@st.composite
def nonempty_slices(draw: Any, n: int) -> slice:
    """A slice of an axis of size ``n`` that selects at least one element (any step sign)."""
    step = draw(st.sampled_from([1, 2, 3, -1, -2]))
    start = draw(st.integers(0, n - 1))
    if step > 0:
        stop: int | None = draw(st.integers(start + 1, n))
    else:
        stop = draw(st.integers(-1, start - 1))
        stop = None if stop == -1 else stop
    as_negative = draw(st.booleans())
    if as_negative:
        start -= n
        if stop is not None and stop < n:
            stop -= n
    if draw(st.booleans()):  # leave out the default end
        if step > 0 and start in (0, -n):
            return slice(None, stop, step)
        if step < 0 and start in (n - 1, -1):
            return slice(None, stop, step)
    return slice(start, stop, step if step != 1 or draw(st.booleans()) else None)


@st.composite
def basic_indices(draw: Any, shape: Shape) -> tuple[Any, ...]:
    """Ints, nonempty slices, ``None`` and ``Ellipsis``, mixed, never selecting nothing."""
    items: list[Any] = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "all"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            items.append(draw(nonempty_slices(n)))
        else:
            items.append(slice(None))
    if items and draw(st.booleans()):  # an Ellipsis stands for a run of whole axes
        start = draw(st.integers(0, len(items)))
        stop = draw(st.integers(start, len(items)))
        items[start:stop] = [Ellipsis]
    elif items and draw(st.booleans()):
        items = items[: draw(st.integers(0, len(items)))]  # trailing axes left out
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    return tuple(items)
