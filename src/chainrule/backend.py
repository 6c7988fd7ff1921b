"""The array library behind the tensor engine: NumPy today.

Every array call the engine and its derivative rules make goes through this
module, so another NumPy-compatible library (CuPy, say) can stand in by
changing ``xp`` and the few helpers below, without touching any op.

The names here double as the *array namespace* a derivative rule receives as
``m``: the same rule runs on plain arrays (fast, first-order) or, through
``chainrule.ops.tensor_math``, on Tensors (recorded, so it can be
differentiated again). Both namespaces offer the same names.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy

xp = numpy
ndarray = numpy.ndarray

# Floating-point trouble inside an op (the log of 0, 0/0, an overflow) gives
# NumPy's values (inf, nan) without NumPy's RuntimeWarning pointing into
# chainrule; cr.detect_anomaly() says which op made such a value, and where.
# (Wrapping each op in numpy.errstate instead would make a small op 4x slower.)
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"chainrule(\.|$)")
Array = Any  # an xp.ndarray; kept loose so another backend type-checks too
Pair = tuple[int, int]

exp = xp.exp
log = xp.log
sqrt = xp.sqrt
sin = xp.sin
cos = xp.cos
tanh = xp.tanh
abs = xp.abs
sign = xp.sign
where = xp.where
maximum = xp.maximum
minimum = xp.minimum
matmul = xp.matmul
concatenate = xp.concatenate
_add_reduce: Any = xp.add.reduce  # the C entry point behind ndarray.sum, without its Python layer
zeros = xp.zeros
ones = xp.ones
zeros_like = xp.zeros_like
ones_like = xp.ones_like


def reshape(a: Array, shape: Sequence[int]) -> Array:
    return a.reshape(shape)


def expand_dims(a: Array, axes: int | tuple[int, ...]) -> Array:
    """Insert axes of size 1 (a reshape: cheaper than NumPy's general version)."""
    axes = axes if isinstance(axes, tuple) else (axes,)
    nd = a.ndim + len(axes)
    shape = list(a.shape)
    for ax in sorted(ax % nd for ax in axes):
        shape.insert(ax, 1)
    return a.reshape(shape)


def sum(a: Array, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Array:
    return _add_reduce(a, axis=axis, keepdims=keepdims)


def swapaxes(a: Array, i: int, j: int) -> Array:
    return a.swapaxes(i, j)


def transpose(a: Array, axes: Sequence[int]) -> Array:
    return a.transpose(axes)


def broadcast_to(a: Array, shape: Sequence[int]) -> Array:
    """``a`` repeated to ``shape``, as a new writeable array (a gradient gets written to)."""
    out = xp.empty(shape, dtype=getattr(a, "dtype", None))
    out[...] = a
    return out


def prod(a: Array, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Array:
    return a.prod(axis=axis, keepdims=keepdims)


def sum_to(a: Array, shape: tuple[int, ...], keep: int = 0) -> Array:
    """Sum ``a`` down to ``shape``: the adjoint of broadcasting ``shape`` up to ``a.shape``.

    The first ``keep`` axes of ``a`` are batch axes and stay as they are.
    """
    target = a.shape[:keep] + tuple(shape) if keep else tuple(shape)
    extra = a.ndim - len(target)
    if not keep and a.shape[extra:] == target:  # only leading axes to sum (e.g. a bias)
        if not extra:
            return a
        return _add_reduce(a, axis=0 if extra == 1 else tuple(range(extra)))
    if a.shape == target:
        return a
    start = keep + extra
    axes = tuple(range(keep, start)) + tuple(
        start + i for i, n in enumerate(shape) if n == 1 and a.shape[start + i] != 1
    )
    out = _add_reduce(a, axis=axes, keepdims=True) if axes else a
    return out.reshape(target)


_erf_ufunc = numpy.frompyfunc(math.erf, 1, 1)


def erf(a: Array) -> Array:
    """The error function, elementwise (SciPy's when installed, else the math module's)."""
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:  # pragma: no cover - depends on the environment
        arr = xp.asarray(a)
        dtype = arr.dtype if arr.dtype.kind == "f" else xp.float64
        return xp.asarray(_erf_ufunc(arr), dtype=dtype)
    return scipy_erf(a)


def index_add(values: Array, shape: tuple[int, ...], index: Any) -> Array:
    """Zeros of ``shape`` with ``values`` added at ``index``; repeated indices accumulate."""
    out = xp.zeros(shape, dtype=values.dtype)
    if _is_basic(index):
        out[index] = values
    else:
        xp.add.at(out, index, values)
    return out


def pad(a: Array, widths: Any, value: float = 0.0) -> Array:
    return xp.pad(a, widths, constant_values=value)


def _is_basic(index: Any) -> bool:
    """True for an index of slices, ints, None and Ellipsis only (no element repeats)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        i is None or i is Ellipsis or isinstance(i, (slice, int, numpy.integer)) for i in items
    )


def windows2d(x: Array, kernel: tuple[int, int], stride: tuple[int, int]) -> Array:
    """A read-only strided view ``(..., C, kh, kw, Ho, Wo)`` of every kernel window of ``x``."""
    *lead, h, w = x.shape
    kh, kw = kernel
    sh, sw = stride
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    s = x.strides
    return xp.lib.stride_tricks.as_strided(
        x,
        shape=(*lead, kh, kw, ho, wo),
        strides=(*s[:-2], s[-2], s[-1], s[-2] * sh, s[-1] * sw),
        writeable=False,
    )


def conv_out_size(
    size: Pair, kernel: Pair, stride: Pair, padding: Pair
) -> Pair:
    return (
        (size[0] + 2 * padding[0] - kernel[0]) // stride[0] + 1,
        (size[1] + 2 * padding[1] - kernel[1]) // stride[1] + 1,
    )


def unfold2d(x: Array, kernel: Pair, stride: Pair, padding: Pair) -> Array:
    """Every kernel window of ``x`` (..., C, H, W) as a column: (..., C·kh·kw, L) (im2col)."""
    ph, pw = padding
    if ph or pw:
        x = xp.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])
    win = windows2d(x, kernel, stride)  # (..., C, kh, kw, Ho, Wo)
    *pre, c, kh, kw, ho, wo = win.shape
    return win.reshape(*pre, c * kh * kw, ho * wo)


def fold2d(cols: Array, size: Pair, kernel: Pair, stride: Pair, padding: Pair) -> Array:
    """The adjoint of ``unfold2d``: add each column back into the window it came from."""
    kh, kw = kernel
    sh, sw = stride
    ho, wo = conv_out_size(size, kernel, stride, padding)
    *pre, ck, _ = cols.shape
    c = ck // (kh * kw)
    blocks = cols.reshape(*pre, c, kh, kw, ho, wo)
    hp, wp = size[0] + 2 * padding[0], size[1] + 2 * padding[1]
    out = xp.zeros((*pre, c, hp, wp), dtype=cols.dtype)
    for i in range(kh):  # one strided add per kernel offset, vectorized over all windows
        for j in range(kw):
            out[..., i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw] += blocks[
                ..., i, j, :, :
            ]
    return out[..., padding[0] : padding[0] + size[0], padding[1] : padding[1] + size[1]]
