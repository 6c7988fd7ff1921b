"""Changing a tensor in place, as PyTorch does: ``t += u``, ``t.add_(u)``, ``t.zero_()``...

Outside recording (under ``cr.no_grad()``, or when nothing involved requires
grad) the array itself changes. While recording, a change to a tensor with
history is recorded instead: its earlier version moves to a node of its own
and the tensor becomes the op's output (the array is replaced, not written
into, so nothing an earlier op saved changes). A leaf that requires grad
refuses both while recording: its ``.grad`` would no longer belong to its
value.

Either way the tensor is stamped with the next creation number, so that a
later ``backward()`` through an op that saved it for its rule, or that used its
earlier version, refuses with an error naming the op (``sweep._check_saved``),
never a wrong gradient.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..backend import xp
from ..errors import DeviceError, GraphError, ShapeError
from ..ops import elementwise
from ..ops._util import raw
from ..ops.op import Op
from . import mode, record, sweep
from .base import TensorBase, bare, next_seq


def run(self: Any, op: Op | None, other: Any, where: str) -> Any:
    """``self = op(self, other)`` in place (``op`` None: ``self = other``, broadcast)."""
    moved = isinstance(other, TensorBase) and other._requires_grad
    if mode.recording() and (self._requires_grad or moved):
        if self._node is None and self._requires_grad:
            raise GraphError(
                f"{where}: a leaf tensor that requires grad cannot be changed in place "
                "while recording (its .grad would no longer be the gradient of its "
                "value); update parameters under `with cr.no_grad():`"
            )
        return rebase(self, op, other, where)
    try:
        if op is None:  # fill_, zero_, copy_
            self.data[...] = raw(other)
        elif op is elementwise.clip:
            xp.clip(self.data, raw(other[0]), raw(other[1]), out=self.data)
        else:  # add, sub, mul, div: the op's forward is the ufunc
            op.forward(self.data, raw(other), out=self.data, casting="same_kind")
    except (ValueError, TypeError) as exc:
        raise error(where, self, other, exc) from None
    stamp(self)
    return self


def rebase(self: Any, op: Op | None, other: Any, where: str) -> Any:
    """Record ``self = op(self, other)``: self's history moves to a new node."""
    when = next_seq()  # taken first: the new node is newer than the change
    old = bare(type(self), self.data, self._requires_grad)
    old._node, old._edges, old._seq = self._node, self._edges, self._seq
    tangents = self._extra.get("tangents") if self._extra else None
    old._extra = {"tangents": tangents} if tangents else None
    if op is None:  # the old values are replaced: their gradient is 0
        new = old * 0 + other
    elif op is elementwise.clip:
        new = old.clip(*other)
    else:
        new = record.apply(op, old, other)
    if new.shape != self.shape or new.dtype != self.dtype:
        if new.shape != self.shape:
            raise ShapeError(f"{where}: a tensor of shape {self.shape} cannot hold the "
                             f"result, of shape {new.shape}")
        new = new.astype(self.dtype)
    self.data, self._requires_grad = new.data, new._requires_grad
    self._node, self._edges, self._seq = new._node, new._edges, new._seq
    stamp(self, when)
    return self



def stamp(t: TensorBase, when: int | None = None) -> None:
    """Mark ``t`` as changed in place now (see sweep.INPLACE)."""
    when = next_seq() if when is None else when
    t._extras()["changed"] = when
    sweep.INPLACE[0] = when


def error(where: str, t: TensorBase, other: Any, exc: Exception, index: Any = ()) -> Exception:
    """What a failed in-place change says: the devices, the shapes, or the dtypes, and what
    to do (``index``: setitem's index, whose GPU arrays cannot index a cpu tensor)."""
    values = [raw(o) for o in (other if isinstance(other, tuple) else (other,))]
    places = [("value", v) for v in values if backend.is_array(v)]
    places += [("index", i) for i in (index if isinstance(index, tuple) else (index,))
               if backend.on_device(i)]
    for what, v in places:
        if backend.device_of(v) != t.device:
            return DeviceError(f"{where}: the tensor is on {t.device} and the {what} on "
                               f"{backend.device_of(v)}; nothing moves between devices by "
                               f"itself: move the {what} with .to('{t.device}')")
    if "broadcast" in str(exc) or "shape" in str(exc):
        shape = xp.shape(values[0]) if not isinstance(other, tuple) else ()
        return ShapeError(f"{where}: a tensor of shape {t.shape} cannot hold the result with "
                          f"a value of shape {shape}")
    dtype = backend.result_type(t.data, values[0]) if not isinstance(other, tuple) else "?"
    return TypeError(f"{where}: the result is {dtype} but the tensor holds {t.dtype}, and "
                     "changing it in place cannot change its dtype; make a new tensor "
                     "(t = t + u) or convert first")
