"""Shape ops: they move or select elements, so each derivative moves the
gradient back the other way. Every one is linear, so its tangent rule is the
op itself applied to the tangent.

Below the ops are the checks the public functions run on shapes and
arguments before recording one (``reshape_target``, ``permutation``, ...):
they work on plain shapes and raise errors that name the op and the fix.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

from .. import backend
from ..backend import xp
from ..errors import ShapeError
from ._util import lead, norm_axes, raw
from .op import Op, register

Shape = tuple[int, ...]

identity = Op("identity", lambda x: x, (lambda m, g, y, x: g,), lambda m, t, y, x: t[0],
              formula="y = x;  ∂L/∂x = g", saves=())
clone = Op("clone", lambda x: x.copy(), (lambda m, g, y, x: g,), lambda m, t, y, x: t[0],
           formula="y = a copy of x (its own array);  ∂L/∂x = g", saves=())
to_device = Op(  # a copy to another device: the gradient is copied back
    "to_device",
    lambda x, device: backend.to_device(x, device),
    (lambda m, g, y, x, device: m.to_device(g, backend.device_of(raw(x))),),
    lambda m, t, y, x, device: m.to_device(t[0], device),
    formula="y = x copied to another device;  ∂L/∂x = g copied back to x's device",
    saves=(),
)

reshape = Op(  # same elements, new shape: the gradient takes the old shape back
    "reshape",
    lambda x, shape: x.reshape(shape),
    (lambda m, g, y, x, shape: m.reshape(g, lead(g, y) + x.shape),),
    lambda m, t, y, x, shape: m.reshape(t[0], lead(t[0], x) + shape),
    formula="y = x in a new shape;  ∂L/∂x = g in x's shape",
    saves=(),
)


def _inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def _shifted(perm: Sequence[int], nb: int) -> tuple[int, ...]:
    """``perm`` acting on the last axes of an array with ``nb`` more axes in front."""
    return tuple(range(nb)) + tuple(nb + p for p in perm)


transpose = Op(  # permute axes: the gradient is permuted back by the inverse
    "transpose",
    lambda x, perm: x.transpose(perm),
    (lambda m, g, y, x, perm: m.transpose(g, _shifted(_inverse(perm), len(lead(g, y)))),),
    lambda m, t, y, x, perm: m.transpose(t[0], _shifted(perm, len(lead(t[0], x)))),
    formula="y = x with its axes permuted;  ∂L/∂x = g permuted back (the inverse permutation)",
    saves=(),
)


def _align(m: Any, t: Any, small: Any, ndim: int) -> Any:
    """Give ``t`` (batch axes + ``small.shape``) ones in front so it has ``ndim`` trailing axes."""
    pre = lead(t, small)
    missing = ndim - len(small.shape)
    return m.reshape(t, pre + (1,) * missing + tuple(small.shape)) if missing and pre else t


broadcast_to = Op(  # copies of each element: their gradients add up (sum back to shape)
    "broadcast_to",
    lambda x, shape: xp.broadcast_to(x, shape),
    (lambda m, g, y, x, shape: m.sum_to(g, x.shape, len(lead(g, y))),),
    lambda m, t, y, x, shape: m.broadcast_to(
        _align(m, t[0], x, len(shape)), lead(t[0], x) + shape),
    formula="y = x repeated to a larger shape;  ∂L/∂x = g summed over the repeats",
    saves=(),
)

sum_to = Op(  # the adjoint of broadcasting; the first ``keep`` axes are left alone
    "sum_to",
    lambda x, shape, keep: backend.sum_to(x, shape, keep),
    (lambda m, g, y, x, shape, keep: m.broadcast_to(m.reshape(
        g, lead(g, y) + x.shape[:keep] + (1,) * (x.ndim - y.ndim) + y.shape[keep:]),
        lead(g, y) + x.shape),),
    lambda m, t, y, x, shape, keep: m.sum_to(t[0], shape, len(lead(t[0], x)) + keep),
    formula="y = x summed down to a smaller shape;  ∂L/∂x = g repeated back up",
    saves=(),
)

astype = Op(
    "astype",
    lambda x, dtype: x.astype(dtype),
    (lambda m, g, y, x, dtype: g.astype(x.dtype),),
    lambda m, t, y, x, dtype: t[0].astype(dtype),
    formula="y = x in another dtype;  ∂L/∂x = g cast back to x's dtype",
    saves=(),
)


def _batched(index: tuple, nb: int) -> tuple:
    return (slice(None),) * nb + index


# Advanced (array) indices split by a slice or an int move to the front in
# NumPy, so batch axes prepended to the index do not stay in front: they land
# after the advanced-index axes. ``take`` and ``put`` move them back (for a
# gradient or a tangent that carries batch axes) and away again (before
# scattering batched values). ``split`` says whether the index is of that kind.


def _advanced_ndim(index: tuple) -> int:
    """How many axes the (broadcast) array indices make; a boolean mask makes one."""
    shapes = [(int(i.sum()),) if i.dtype == bool else i.shape
              for i in index if backend.is_array(i)]
    return len(xp.broadcast_shapes(*shapes))


def _take(m: Any, v: Any, nb: int, index: tuple, split: bool) -> Any:
    """``v[index]`` on the last axes of ``v``, its ``nb`` batch axes kept in front."""
    r = v[_batched(index, nb)]
    if not (nb and split):
        return r
    a = _advanced_ndim(index)
    return m.transpose(r, tuple(range(a, a + nb)) + tuple(range(a)) + tuple(range(a + nb, r.ndim)))


def _put(m: Any, v: Any, nb: int, shape: Shape, index: tuple, split: bool) -> Any:
    """Zeros of ``shape`` (after ``nb`` batch axes of ``v``) with ``v`` added at ``index``."""
    pre = tuple(v.shape[:nb])
    if nb and split:
        a = _advanced_ndim(index)
        v = m.transpose(v, tuple(range(nb, nb + a)) + tuple(range(nb))
                        + tuple(range(nb + a, v.ndim)))
    return m.index_add(v, pre + shape, _batched(index, nb))


getitem = Op(  # selection: the gradient is scattered back (repeated picks add up)
    "getitem",
    lambda x, index, split: x[index],
    (lambda m, g, y, x, index, split: _put(m, g, len(lead(g, y)), x.shape, index, split),),
    lambda m, t, y, x, index, split: _take(m, t[0], len(lead(t[0], x)), index, split),
    formula="y = x[index];  ∂L/∂x = zeros with g added back at index (repeats add up)",
    saves=(),
)

index_add = Op(  # zeros with values added at index: the adjoint of getitem
    "index_add",
    lambda v, shape, index, split: backend.index_add(v, shape, index),
    (lambda m, g, y, v, shape, index, split: _take(m, g, len(lead(g, y)), index, split),),
    lambda m, t, y, v, shape, index, split: _put(
        m, t[0], len(lead(t[0], v)), shape, index, split),
    formula="y = zeros with v added at index;  ∂L/∂v = g[index]",
    saves=(),
)


def _concat_rule(i: int, m: Any, g: Any, y: Any, *xs: Any, axis: int) -> Any:
    start = builtins.sum(x.shape[axis] for x in xs[:i])  # this input's slab of the output
    sl = [slice(None)] * g.ndim
    sl[g.ndim + axis] = slice(start, start + xs[i].shape[axis])
    return g[tuple(sl)]


def _concat_jvp(m: Any, ts: tuple, y: Any, *xs: Any, axis: int) -> Any:
    pre = next(lead(t, x) for t, x in zip(ts, xs, strict=False) if t is not None)
    ref = next(t for t in ts if t is not None)  # zeros where an input has no tangent
    parts = [
        t if t is not None else m.zeros_of(pre + x.shape, ref.dtype, ref)
        for t, x in zip(ts, xs, strict=True)
    ]
    return m.concatenate(parts, axis)


concatenate = Op(
    "concatenate",
    lambda *xs, axis: xp.concatenate(xs, axis),
    _concat_rule,
    _concat_jvp,
    formula="y = [x₁, x₂, ...] joined along an axis;  ∂L/∂xᵢ = xᵢ's slab of g",
    saves=(),
)


def _unpad(g: Any, x: Any, widths: tuple) -> Any:
    nb = g.ndim - len(widths)
    inside = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape, strict=True))
    return g[_batched(inside, nb)]


pad = Op(  # constant padding: the gradient of the padding is dropped
    "pad",
    lambda x, widths, value: xp.pad(x, widths, constant_values=value),
    (lambda m, g, y, x, widths, value: _unpad(g, x, widths),),
    lambda m, t, y, x, widths, value: m.pad(
        t[0], ((0, 0),) * len(lead(t[0], x)) + widths, 0.0),
    formula="y = x with a constant border;  ∂L/∂x = g without the border",
    saves=(),
)

_F = "shape"
register("reshape", reshape, function="reshape", methods="reshape view", family=_F)
register("transpose", transpose, function="transpose",
         methods="transpose permute T mT", family=_F)
register("permute", function="permute", family=_F,
         formula="permute(x, axes) is the transpose op with the given order of axes")
register("broadcast_to", broadcast_to, function="broadcast_to",
         methods="broadcast_to expand", family=_F)
register("expand", function="expand", family=_F,
         formula="expand(x, *sizes) is broadcast_to, where -1 keeps a size (PyTorch's name)")
register("sum_to", sum_to, family=_F)
register("astype", astype, methods="astype", family=_F)
register("getitem", getitem, methods="__getitem__", family=_F)
register("index_add", index_add, family=_F)
register("identity", identity, family=_F)
register("clone", clone, methods="clone", family=_F)
register("to_device", to_device, family=_F)
register("concatenate", concatenate, function="concatenate", family=_F)
register("pad", pad, function="pad", methods="pad", family=_F)
register("squeeze", function="squeeze", methods="squeeze", family=_F,
         formula="squeeze(x) drops axes of size 1: a reshape")
register("unsqueeze", function="unsqueeze", methods="unsqueeze", family=_F,
         formula="unsqueeze(x, axis) inserts an axis of size 1: a reshape")
register("flatten", function="flatten", methods="flatten", family=_F,
         formula="flatten(x, start, end) merges axes start..end: a reshape")
register("stack", function="stack", family=_F,
         formula="stack(xs, axis) = concatenate of each x with a new axis (unsqueeze)")
register("split", function="split", family=_F,
         formula="split(x, sections, axis) = slices of x (getitem), one per section")


# ---------------------------------------------------------------- argument checks
def reshape_target(old: Shape, shape: tuple) -> Shape:
    """The shape ``reshape(shape)`` makes of ``old`` (one -1 allowed), checked."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return xp.empty(old, dtype=bool).reshape(shape).shape  # type: ignore[no-any-return]
    except (ValueError, TypeError):
        raise ShapeError(
            f"reshape: cannot reshape a tensor of shape {old} ({math.prod(old)} elements) "
            f"into shape {tuple(shape)}"
        ) from None


def permutation(axes: tuple, ndim: int, shape: Shape) -> tuple[int, ...]:
    """``axes`` (one tuple, or the axes spread out) as a checked permutation of ``ndim`` axes."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    perm = tuple(a % ndim if isinstance(a, int) and -ndim <= a < ndim else a for a in axes)
    if sorted(perm) != list(range(ndim)):
        raise ValueError(
            f"permute: {tuple(axes)} is not a permutation of the {ndim} axes of a tensor "
            f"of shape {shape}"
        )
    return perm


def swap(dim0: int, dim1: int, ndim: int) -> tuple[int, ...]:
    """The permutation that swaps two axes."""
    for d in (dim0, dim1):
        if not -ndim <= d < ndim:
            raise IndexError(f"transpose: axis {d} is out of range for {ndim} dimension(s)")
    perm = list(range(ndim))
    perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
    return tuple(perm)


def broadcast_target(old: Shape, shape: Sequence[int], where: str = "broadcast_to") -> Shape:
    shape = tuple(shape)
    try:
        if len(old) > len(shape) or xp.broadcast_shapes(old, shape) != shape:
            raise ValueError
    except ValueError:
        raise ShapeError(f"{where}: cannot broadcast shape {old} to {shape}") from None
    return shape


def expand_target(old: Shape, sizes: tuple) -> Shape:
    """PyTorch's ``expand``: the target shape, where -1 keeps a size."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    pad = len(sizes) - len(old)
    full = tuple(old[i - pad] if s == -1 and i >= pad else s for i, s in enumerate(sizes))
    return broadcast_target(old, full, "expand")


def squeezed(old: Shape, axis: Any) -> Shape:
    if axis is None:
        return tuple(n for n in old if n != 1)
    axes = {a + len(old) for a in norm_axes(axis, len(old), "squeeze")}
    for a in axes:
        if old[a] != 1:
            raise ShapeError(f"squeeze: axis {a} of shape {old} has size {old[a]}, not 1")
    return tuple(n for i, n in enumerate(old) if i not in axes)


def unsqueezed(old: Shape, axis: int) -> Shape:
    nd = len(old) + 1
    if not isinstance(axis, (int, xp.integer)) or not -nd <= axis < nd:
        raise IndexError(f"unsqueeze: axis {axis!r} is out of range for {nd} dimension(s)")
    new = list(old)
    new.insert(axis % nd, 1)
    return tuple(new)


def flattened(old: Shape, start_dim: int, end_dim: int) -> Shape:
    nd = builtins.max(len(old), 1)  # a 0-d tensor flattens like one of shape (1,)
    for d in (start_dim, end_dim):
        if not -nd <= d < nd:
            raise IndexError(f"flatten: axis {d} is out of range for {len(old)} dimension(s)")
    if not old:
        return (1,)
    s, e = start_dim % nd, end_dim % nd
    if s > e:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
            f"for a tensor of shape {old}"
        )
    return old[:s] + (math.prod(old[s : e + 1]),) + old[e + 1 :]


def plain_index(index: Any, tensor_type: type) -> tuple:
    """An index as NumPy takes it: Tensors and lists inside become arrays, checked."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for i in items:
        if isinstance(i, tensor_type):
            i = i.data  # type: ignore[attr-defined]
        elif isinstance(i, list):
            i = xp.asarray(i)
            if i.size == 0:  # [] selects nothing, as in NumPy (not a float array)
                i = i.astype(xp.intp)
        if backend.is_array(i):
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


def splits_advanced(index: tuple) -> bool:
    """True when array indices are separated by something else (NumPy then moves them first).

    Next to an array, an int is an advanced index too: ``x[arr, :, 0]`` is split.
    """
    if builtins.len(index) < 3 or not any(backend.is_array(i) for i in index):
        return False  # (a split needs something between two advanced indices)
    pos = [k for k, i in enumerate(index)
           if (backend.is_array(i) or isinstance(i, (int, xp.integer)))
           and not isinstance(i, bool)]
    return builtins.len(pos) > 1 and pos[-1] - pos[0] + 1 != builtins.len(pos)


def check_device_index(index: tuple, shape: Shape, where: str) -> None:
    """Range-check the GPU integer arrays in ``index`` (NumPy checks its own; CuPy would
    wrap an index around): each against the size of the axis it picks from."""
    consumed = [1 if i is not None and i is not Ellipsis else 0 for i in index]
    for k, i in enumerate(index):
        if backend.is_array(i) and i.dtype.kind == "b":
            consumed[k] = i.ndim
    axis = 0
    for k, i in enumerate(index):
        if i is Ellipsis:
            axis += builtins.len(shape) - builtins.sum(consumed)
        elif backend.on_device(i) and i.dtype.kind in "iu" and axis < builtins.len(shape):
            n = shape[axis]
            backend.check_range(i, -n, n, f"{where}: index {{}} is out of range for axis "
                                          f"{axis} of size {n}")
        axis += consumed[k]


def concat_axis(shapes: list[Shape], axis: int) -> int:
    """The (negative) axis to join ``shapes`` along, checked."""
    if not shapes:
        raise ValueError("concatenate: needs at least one tensor")
    nd = len(shapes[0])
    if not -nd <= axis < nd:
        raise IndexError(f"concatenate: axis {axis} is out of range for {nd} dimension(s)")
    ax = axis - nd if axis >= 0 else axis
    for s in shapes:
        if len(s) != nd or any(a != b for k, (a, b) in enumerate(zip(s, shapes[0], strict=False))
                               if k - nd != ax):
            raise ShapeError(f"concatenate: shapes {shapes} must agree except along axis {axis}")
    return ax


def stack_axis(shapes: list[Shape], axis: int) -> int:
    if not shapes:
        raise ValueError("stack: needs at least one tensor")
    if len(set(shapes)) > 1:
        raise ShapeError(f"stack: all tensors must have the same shape, got {sorted(set(shapes))}")
    nd = len(shapes[0]) + 1
    if not -nd <= axis < nd:
        raise IndexError(f"stack: axis {axis} is out of range for {nd} dimension(s)")
    return axis


def split_bounds(shape: Shape, sections: int | Sequence[int], axis: int) -> list[int]:
    """The cut points of ``split`` along ``axis``, from 0 to its size."""
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
    return [0, *cuts, n]


def pad_widths(pad_width: Any, shape: Shape) -> tuple[tuple[int, int], ...]:
    """NumPy-style ``pad_width`` as one (before, after) pair per axis, checked."""
    nd = len(shape)
    try:
        w = xp.broadcast_to(xp.asarray(pad_width, dtype=int), (nd, 2))
    except (ValueError, TypeError):
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a tensor of shape {shape}; give "
            "one (before, after) pair per axis, one pair for all axes, or one int"
        ) from None
    if (w < 0).any():
        raise ValueError(f"pad: widths must be >= 0, got {pad_width!r}")
    return tuple((int(a), int(b)) for a, b in w)
