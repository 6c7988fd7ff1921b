"""Shape ops: they move or select elements, so each derivative moves the
gradient back the other way. Every one is linear, so its tangent rule is the
op itself applied to the tangent."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from .. import backend
from ..backend import xp
from ..errors import ShapeError
from ..tensor import Op, Tensor, apply
from ._util import lead, norm_axes, operand

identity = Op("identity", lambda x: x, (lambda m, g, y, x: g,), lambda m, t, y, x: t[0])

reshape_op = Op(  # same elements, new shape: the gradient takes the old shape back
    "reshape",
    lambda x, shape: x.reshape(shape),
    (lambda m, g, y, x, shape: m.reshape(g, lead(g, y) + x.shape),),
    lambda m, t, y, x, shape: m.reshape(t[0], lead(t[0], x) + shape),
)


def _inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def _shifted(perm: Sequence[int], nb: int) -> tuple[int, ...]:
    """``perm`` acting on the last axes of an array with ``nb`` more axes in front."""
    return tuple(range(nb)) + tuple(nb + p for p in perm)


transpose_op = Op(  # permute axes: the gradient is permuted back by the inverse
    "transpose",
    lambda x, perm: x.transpose(perm),
    (lambda m, g, y, x, perm: m.transpose(g, _shifted(_inverse(perm), len(lead(g, y)))),),
    lambda m, t, y, x, perm: m.transpose(t[0], _shifted(perm, len(lead(t[0], x)))),
)


def _align(m: Any, t: Any, small: Any, ndim: int) -> Any:
    """Give ``t`` (batch axes + ``small.shape``) ones in front so it has ``ndim`` trailing axes."""
    pre = lead(t, small)
    missing = ndim - len(small.shape)
    return m.reshape(t, pre + (1,) * missing + tuple(small.shape)) if missing and pre else t


broadcast_op = Op(  # copies of each element: their gradients add up (sum back to shape)
    "broadcast_to",
    lambda x, shape: xp.broadcast_to(x, shape),
    (lambda m, g, y, x, shape: m.sum_to(g, x.shape, len(lead(g, y))),),
    lambda m, t, y, x, shape: m.broadcast_to(
        _align(m, t[0], x, len(shape)), lead(t[0], x) + shape),
)

sum_to_op = Op(  # the adjoint of broadcasting; the first ``keep`` axes are left alone
    "sum_to",
    lambda x, shape, keep: backend.sum_to(x, shape, keep),
    (lambda m, g, y, x, shape, keep: m.broadcast_to(m.reshape(
        g, lead(g, y) + x.shape[:keep] + (1,) * (x.ndim - y.ndim) + y.shape[keep:]),
        lead(g, y) + x.shape),),
    lambda m, t, y, x, shape, keep: m.sum_to(t[0], shape, len(lead(t[0], x)) + keep),
)

astype_op = Op(
    "astype",
    lambda x, dtype: x.astype(dtype),
    (lambda m, g, y, x, dtype: g.astype(x.dtype),),
    lambda m, t, y, x, dtype: t[0].astype(dtype),
)


def _batched(index: tuple, nb: int) -> tuple:
    return (slice(None),) * nb + index


getitem_op = Op(  # selection: the gradient is scattered back (repeats accumulate)
    "getitem",
    lambda x, index: x[index],
    (lambda m, g, y, x, index: m.index_add(
        g, lead(g, y) + x.shape, _batched(index, len(lead(g, y)))),),
    lambda m, t, y, x, index: t[0][_batched(index, len(lead(t[0], x)))],
)


# Advanced (array) indices split by a slice or an int move to the front in
# NumPy, so batch axes prepended to the index do not stay in front: they land
# after the advanced-index axes. The variants below move them back (for a
# gradient or a tangent that carries batch axes) and away again (before
# scattering batched values).


def _advanced_ndim(index: tuple) -> int:
    """How many axes the (broadcast) array indices make; a boolean mask makes one."""
    shapes = [(int(i.sum()),) if i.dtype == bool else i.shape
              for i in index if isinstance(i, backend.ndarray)]
    return len(xp.broadcast_shapes(*shapes))


def _take_split(m: Any, v: Any, index: tuple, nb: int) -> Any:
    """``v[index]`` on the last axes of ``v``, its ``nb`` batch axes kept in front."""
    r = v[_batched(index, nb)]
    if not nb:
        return r
    a = _advanced_ndim(index)
    return m.transpose(r, tuple(range(a, a + nb)) + tuple(range(a)) + tuple(range(a + nb, r.ndim)))


def _put_split(m: Any, v: Any, shape: tuple, index: tuple, nb: int) -> Any:
    """``index_add`` of ``v`` (``nb`` batch axes, then the shape ``x[index]`` has)."""
    if not nb:
        return m.index_add(v, shape, index)
    a = _advanced_ndim(index)
    pre = tuple(v.shape[:nb])
    v = m.transpose(v, tuple(range(nb, nb + a)) + tuple(range(nb)) + tuple(range(nb + a, v.ndim)))
    return m.index_add(v, pre + shape, _batched(index, nb))


getitem_split_op = Op(
    "getitem",
    getitem_op.forward,
    (lambda m, g, y, x, index: _put_split(m, g, x.shape, index, len(lead(g, y))),),
    lambda m, t, y, x, index: _take_split(m, t[0], index, len(lead(t[0], x))),
)

index_add_op = Op(  # zeros with values added at index: the adjoint of getitem
    "index_add",
    lambda v, shape, index: backend.index_add(v, shape, index),
    (lambda m, g, y, v, shape, index: g[_batched(index, len(lead(g, y)))],),
    lambda m, t, y, v, shape, index: m.index_add(
        t[0], lead(t[0], v) + shape, _batched(index, len(lead(t[0], v)))),
)
index_add_split_op = Op(
    "index_add",
    index_add_op.forward,
    (lambda m, g, y, v, shape, index: _take_split(m, g, index, len(lead(g, y))),),
    lambda m, t, y, v, shape, index: _put_split(m, t[0], shape, index, len(lead(t[0], v))),
)


def _concat_rule(i: int, m: Any, g: Any, y: Any, *xs: Any, axis: int) -> Any:
    start = builtins.sum(x.shape[axis] for x in xs[:i])  # this input's slab of the output
    sl = [slice(None)] * g.ndim
    sl[g.ndim + axis] = slice(start, start + xs[i].shape[axis])
    return g[tuple(sl)]


def _concat_jvp(m: Any, ts: tuple, y: Any, *xs: Any, axis: int) -> Any:
    pre = next(lead(t, x) for t, x in zip(ts, xs, strict=False) if t is not None)
    dtype = next(t.dtype for t in ts if t is not None)
    parts = [
        t if t is not None else m.zeros(pre + x.shape, dtype)
        for t, x in zip(ts, xs, strict=True)
    ]
    return m.concatenate(parts, axis)


concat_op = Op(
    "concatenate",
    lambda *xs, axis: xp.concatenate(xs, axis),
    _concat_rule,
    _concat_jvp,
)


def _unpad(g: Any, x: Any, widths: tuple) -> Any:
    nb = g.ndim - len(widths)
    inside = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape, strict=True))
    return g[_batched(inside, nb)]


pad_op = Op(  # constant padding: the gradient of the padding is dropped
    "pad",
    lambda x, widths, value: xp.pad(x, widths, constant_values=value),
    (lambda m, g, y, x, widths, value: _unpad(g, x, widths),),
    lambda m, t, y, x, widths, value: m.pad(
        t[0], ((0, 0),) * len(lead(t[0], x)) + widths, 0.0),
)


# ---------------------------------------------------------------- public functions
def _shape_of(x: Any) -> tuple[int, ...]:
    return tuple(xp.shape(x.data if isinstance(x, Tensor) else x))


def reshape(x: Any, *shape: Any) -> Tensor:
    """The same elements in a new shape (one dimension may be -1)."""
    x = operand(x, "reshape")
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    old = _shape_of(x)
    try:
        new = xp.empty(old, dtype=bool).reshape(shape).shape  # resolves -1, checks the size
    except (ValueError, TypeError):
        raise ShapeError(
            f"reshape: cannot reshape a tensor of shape {old} ({xp.prod(old, dtype=int)} "
            f"elements) into shape {tuple(shape)}"
        ) from None
    return apply(reshape_op, x, shape=tuple(new))


def permute(x: Any, *axes: Any) -> Tensor:
    """Reorder the axes: ``axes`` is a permutation of ``range(ndim)``."""
    x = operand(x, "permute")
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    nd = len(_shape_of(x))
    perm = tuple(a % nd if isinstance(a, int) and -nd <= a < nd else a for a in axes)
    if sorted(perm) != list(range(nd)):
        raise ValueError(
            f"permute: {tuple(axes)} is not a permutation of the {nd} axes of a tensor "
            f"of shape {_shape_of(x)}"
        )
    return apply(transpose_op, x, perm=perm)


def transpose(x: Any, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two axes (default: the last two)."""
    x = operand(x, "transpose")
    nd = len(_shape_of(x))
    for d in (dim0, dim1):
        if not -nd <= d < nd:
            raise IndexError(f"transpose: axis {d} is out of range for {nd} dimension(s)")
    perm = list(range(nd))
    perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
    return apply(transpose_op, x, perm=tuple(perm))


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` repeated (without copying) to ``shape``, following NumPy's broadcasting rule."""
    x = operand(x, "broadcast_to")
    shape = tuple(shape)
    old = _shape_of(x)
    try:
        xp.broadcast_shapes(old, shape)
        if len(old) > len(shape) or xp.broadcast_shapes(old, shape) != shape:
            raise ValueError
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {old} to {shape}") from None
    return apply(broadcast_op, x, shape=shape)


def expand(x: Any, *shape: Any) -> Tensor:
    """Like PyTorch's ``expand``: ``broadcast_to``, where -1 keeps a size."""
    x = operand(x, "expand")
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    old = _shape_of(x)
    pad = len(shape) - len(old)
    full = tuple(old[i - pad] if s == -1 and i >= pad else s for i, s in enumerate(shape))
    return broadcast_to(x, full)


def sum_to(x: Any, shape: Sequence[int], keep: int = 0) -> Tensor:
    """Sum ``x`` down to ``shape`` (the adjoint of ``broadcast_to``); the first ``keep``
    axes of ``x`` are kept as they are."""
    return apply(sum_to_op, x, shape=tuple(shape), keep=keep)


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Drop axes of size 1 (all of them, or those named by ``axis``)."""
    x = operand(x, "squeeze")
    old = _shape_of(x)
    if axis is None:
        keep = [n for n in old if n != 1]
    else:
        axes = {a + len(old) for a in norm_axes(axis, len(old), "squeeze")}
        for a in axes:
            if old[a] != 1:
                raise ShapeError(f"squeeze: axis {a} of shape {old} has size {old[a]}, not 1")
        keep = [n for i, n in enumerate(old) if i not in axes]
    return reshape(x, tuple(keep))


def unsqueeze(x: Any, axis: int) -> Tensor:
    """Insert an axis of size 1 at ``axis``."""
    x = operand(x, "unsqueeze")
    old = list(_shape_of(x))
    nd = len(old) + 1
    if not -nd <= axis < nd:
        raise IndexError(f"unsqueeze: axis {axis} is out of range for {nd} dimension(s)")
    old.insert(axis % nd, 1)
    return reshape(x, tuple(old))


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes ``start_dim..end_dim`` into one."""
    x = operand(x, "flatten")
    old = _shape_of(x)
    nd = builtins.max(len(old), 1)  # a 0-d tensor flattens like one of shape (1,)
    for d in (start_dim, end_dim):
        if not -nd <= d < nd:
            raise IndexError(f"flatten: axis {d} is out of range for {len(old)} dimension(s)")
    if not old:
        return reshape(x, (1,))
    s, e = start_dim % nd, end_dim % nd
    if s > e:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
            f"for a tensor of shape {old}"
        )
    n = 1
    for d in old[s : e + 1]:
        n *= d
    return reshape(x, old[:s] + (n,) + old[e + 1 :])


def _normalize_index(index: Any, shape: tuple[int, ...]) -> tuple:
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for i in items:
        if isinstance(i, Tensor):
            i = i.data
        elif isinstance(i, list):
            i = xp.asarray(i)
            if i.size == 0:  # [] selects nothing, as in NumPy (not a float array)
                i = i.astype(xp.intp)
        if isinstance(i, backend.ndarray):
            if i.dtype.kind not in "biu":
                raise IndexError(
                    f"getitem: an index array must hold integers or booleans, not {i.dtype}"
                )
            if i.ndim == 0 and i.dtype.kind in "iu":
                i = int(i)
        elif not (i is None or i is Ellipsis or isinstance(i, (int, slice, xp.integer))):
            raise IndexError(
                f"getitem: cannot index with {type(i).__name__}; use ints, slices, None, "
                "Ellipsis, or integer/boolean arrays"
            )
        out.append(i)
    return tuple(out)


def _splits_advanced(index: tuple) -> bool:
    """True when array indices are separated by something else (NumPy then moves them first).

    Next to an array, an int is an advanced index too: ``x[arr, :, 0]`` is split.
    """
    if builtins.len(index) < 3 or not any(isinstance(i, backend.ndarray) for i in index):
        return False  # (a split needs something between two advanced indices)
    pos = [k for k, i in enumerate(index)
           if isinstance(i, (backend.ndarray, int, xp.integer)) and not isinstance(i, bool)]
    return builtins.len(pos) > 1 and pos[-1] - pos[0] + 1 != builtins.len(pos)


def getitem(x: Any, index: Any) -> Tensor:
    """NumPy indexing: ints, slices (negative steps too), None, Ellipsis, integer and
    boolean arrays; repeated indices accumulate their gradients."""
    shape = _shape_of(x)
    idx = _normalize_index(index, shape)
    op = getitem_split_op if _splits_advanced(idx) else getitem_op
    try:
        return apply(op, x, index=idx)
    except IndexError as exc:
        raise IndexError(f"getitem: {exc} (tensor of shape {shape}, index {index!r})") from None


def index_add(values: Any, shape: Sequence[int], index: Any) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeats accumulate)."""
    op = index_add_split_op if _splits_advanced(index) else index_add_op
    return apply(op, values, shape=tuple(shape), index=index)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = [operand(t, "concatenate") for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    shapes = [_shape_of(t) for t in tensors]
    nd = len(shapes[0])
    if not -nd <= axis < nd:
        raise IndexError(f"concatenate: axis {axis} is out of range for {nd} dimension(s)")
    ax = axis - nd if axis >= 0 else axis
    for s in shapes:
        if len(s) != nd or any(a != b for k, (a, b) in enumerate(zip(s, shapes[0], strict=False))
                               if k - nd != ax):
            raise ShapeError(
                f"concatenate: shapes {shapes} must agree except along axis {axis}"
            )
    return apply(concat_op, *tensors, axis=ax)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    tensors = [operand(t, "stack") for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shapes = {_shape_of(t) for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    nd = len(_shape_of(tensors[0])) + 1
    if not -nd <= axis < nd:
        raise IndexError(f"stack: axis {axis} is out of range for {nd} dimension(s)")
    return concatenate([unsqueeze(t, axis) for t in tensors], axis)


def split(x: Any, sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split into ``sections`` equal parts, or at the given indices (like ``numpy.split``)."""
    x = operand(x, "split")
    shape = _shape_of(x)
    if not -len(shape) <= axis < len(shape):
        raise IndexError(f"split: axis {axis} is out of range for {len(shape)} dimension(s)")
    n = shape[axis]
    if isinstance(sections, int):
        if sections <= 0 or n % sections:
            raise ShapeError(
                f"split: axis {axis} of size {n} does not divide into {sections} equal parts"
            )
        cuts = list(range(0, n, n // sections))[1:]
    else:
        cuts = list(sections)
    bounds = [0, *cuts, n]
    pre = (slice(None),) * (axis % len(shape))
    return [getitem(x, pre + (slice(a, b),)) for a, b in zip(bounds[:-1], bounds[1:], strict=False)]


def pad(x: Any, pad_width: Any, value: float = 0.0) -> Tensor:
    """Constant padding, NumPy style: ``pad_width`` is ``((before, after), ...)`` per axis,
    or one ``(before, after)`` / one int for every axis."""
    x = operand(x, "pad")
    nd = len(_shape_of(x))
    try:
        w = xp.broadcast_to(xp.asarray(pad_width, dtype=int), (nd, 2))
    except (ValueError, TypeError):
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a tensor of shape {_shape_of(x)}; give "
            "one (before, after) pair per axis, one pair for all axes, or one int"
        ) from None
    if (w < 0).any():
        raise ValueError(f"pad: widths must be >= 0, got {pad_width!r}")
    widths = tuple((int(a), int(b)) for a, b in w)
    return apply(pad_op, x, widths=widths, value=value)


def astype(x: Any, dtype: Any) -> Tensor:
    """The same values in another dtype (gradients are cast back)."""
    if xp.dtype(dtype) == (x.dtype if isinstance(x, Tensor) else xp.asarray(x).dtype):
        return x if isinstance(x, Tensor) else Tensor(x)
    return apply(astype_op, x, dtype=xp.dtype(dtype))
