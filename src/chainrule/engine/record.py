"""Running an op and recording it: the path every tensor operation takes.

``apply(op, *args, **params)`` runs an op's forward on the arrays of its
inputs and, while recording (see mode.py), keeps in the new tensor's ``_node``
how it was made. The makers below give each one- and two-input op its
Tensor method with ``apply`` written out in place: they run for nearly every
op a model makes, and a call level less per op is what keeps small graphs
fast (``benchmarks/bench_tensor.py`` measures it).
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from .. import backend
from ..backend import ndarray, on_device, xp
from ..errors import ShapeError
from ..ops._util import raw
from ..ops.op import Op
from . import anomaly, mode, sweep
from .base import TensorBase, bare, next_seq
from .forward import push_tangents

# The class of the tensors ops make: Tensor, which engine/tensor.py builds from
# the makers below and then hands back here (so this module never imports it).
TENSOR: Any = TensorBase

_new = object.__new__
_COUNTS = mode.COUNTS  # [threads not recording, levels/anomaly checks open]: the fast tests
_local = mode.local
NO_PARAMS = sweep.NO_PARAMS
_ONE: tuple = (True,)
_BOTH, _FIRST, _SECOND = (True, True), (True, False), (False, True)
_PY_NUMBERS = {float, int}
_CONSTANT_TYPES = {float, int, ndarray}  # checked by type first: isinstance
_CONSTANTS = (numbers.Number, ndarray, xp.generic)  # on an ABC is slow


def operand_error(where: str, what: str) -> TypeError:
    """The error for an op input that is neither a Tensor nor a number or ndarray."""
    return TypeError(f"{where}: expected a Tensor, an ndarray or a number, got {what}")


def _gpu_arrays(value: Any) -> list[Any]:
    """The GPU arrays in an op's parameter (an index may be a tuple of them)."""
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in _gpu_arrays(v)]
    return [value] if backend.on_device(value) else []


def _forward_error(op: Op, arrays: Sequence[Any], exc: Exception,
                   params: dict[str, Any] | None = None) -> Exception:
    # a GPU parameter (an index, class targets) next to cpu inputs counts too; a NumPy
    # one next to GPU inputs is fine (CuPy takes NumPy indices)
    gpu_params = [a for v in (params or {}).values() for a in _gpu_arrays(v)]
    devices = sorted({backend.device_of(a) for a in [*arrays, *gpu_params]
                      if backend.is_array(a)})
    if len(devices) > 1:
        return backend.DeviceError(
            f"{op.name}: its inputs are on {' and '.join(devices)}; nothing moves between "
            f"devices by itself: move one with .to('{devices[-1]}') (or .cpu())"
        )
    if isinstance(exc, ValueError):
        if op.describe is not None:
            return ShapeError(f"{op.name}: {op.describe(*arrays)}")
        shapes = ", ".join(str(xp.shape(a)) for a in arrays)
        return ShapeError(f"{op.name}: inputs of shapes {shapes} do not fit: {exc}")
    kinds = ", ".join(type(a).__name__ for a in arrays)
    return TypeError(f"{op.name}: cannot apply to inputs of type {kinds}: {exc}")


def apply(op: Op, *args: Any, **params: Any) -> Any:
    """Run ``op`` on ``args`` (Tensors or constants) and record it if needed."""
    arrays = []
    needs = []
    for a in args:  # anything but a tensor is a constant
        if isinstance(a, TensorBase):
            arrays.append(a.data)
            needs.append(a._requires_grad)
        else:
            arrays.append(a)
            needs.append(False)
    try:
        out = op.forward(*arrays, **params)
    except (ValueError, TypeError) as exc:
        raise _forward_error(op, arrays, exc, params) from None
    if type(out) is not ndarray:
        out = backend.array_of(out)
    t = _new(TENSOR)
    t.data = out
    t.grad = None
    t._extra = None
    t._seq = next_seq()
    t._pending = None
    if True in needs and (not _COUNTS[0] or _local.recording):
        t._requires_grad = True
        t._node = (op, args, tuple(arrays), tuple(needs), params or NO_PARAMS)
        t._edges = tuple(itertools.compress(args, needs))
    else:
        t._requires_grad = False
        t._node = None
        t._edges = ()
    if _COUNTS[1]:
        _slow_path(op, args, params or NO_PARAMS, t)
    return t


def unary_method(op: Op) -> Callable[[Any], Any]:
    """The method ``x.<op>()``: run a one-input, parameter-free op and record it."""
    forward = op.forward

    def method(x: Any) -> Any:
        if not isinstance(x, TensorBase):  # called as a function: cr.exp(2.0)
            return apply(op, as_tensor(x, op.name))
        xd = x.data
        try:
            out = forward(xd)
        except (ValueError, TypeError) as exc:
            raise _forward_error(op, [xd], exc) from None
        if type(out) is not ndarray:
            out = backend.array_of(out)
        t = _new(TENSOR)
        t.data = out
        t.grad = None
        t._extra = None
        t._seq = next_seq()
        t._pending = None
        if x._requires_grad and (not _COUNTS[0] or _local.recording):
            t._requires_grad = True
            t._edges = args = (x,)
            t._node = (op, args, (xd,), _ONE, NO_PARAMS)
        else:
            t._requires_grad = False
            t._node = None
            t._edges = ()
        if _COUNTS[1]:
            _slow_path(op, (x,), NO_PARAMS, t)
        return t

    method.__name__ = method.__qualname__ = op.name
    method.__doc__ = op.formula
    return method


def binary_method(op: Op, reflected: bool = False) -> Callable[[Any, Any], Any]:
    """The operator ``a <op> b`` (``b <op> a`` if ``reflected``). Either side may be a
    constant (number or ndarray); any other operand gives NotImplemented, so Python
    can try the other side."""
    forward = op.forward

    def method(a: Any, b: Any) -> Any:
        if reflected:
            a, b = b, a
        # A Python number next to a float tensor is converted once, to a 0-d array
        # of the tensor's dtype: NumPy would convert it again on every call (the
        # forward, and the backward's g * b), and the numbers come out the same.
        if isinstance(a, TensorBase):
            ad, ra = a.data, a._requires_grad
            if isinstance(b, TensorBase):
                bd, rb = b.data, b._requires_grad
            elif type(b) in _PY_NUMBERS and ad.dtype.kind in "fc":
                bd, rb = xp.asarray(b, ad.dtype) if type(ad) is ndarray else ad.dtype.type(b), False
            elif type(b) in _CONSTANT_TYPES or isinstance(b, _CONSTANTS) or on_device(b):
                bd, rb = b, False
            else:
                return NotImplemented
        elif isinstance(b, TensorBase):
            bd, rb = b.data, b._requires_grad
            if type(a) in _PY_NUMBERS and bd.dtype.kind in "fc":
                ad, ra = xp.asarray(a, bd.dtype) if type(bd) is ndarray else bd.dtype.type(a), False
            elif type(a) in _CONSTANT_TYPES or isinstance(a, _CONSTANTS) or on_device(a):
                ad, ra = a, False
            else:
                return NotImplemented
        else:
            return NotImplemented
        try:
            out = forward(ad, bd)
        except (ValueError, TypeError) as exc:
            raise _forward_error(op, [ad, bd], exc) from None
        if type(out) is not ndarray:
            out = backend.array_of(out)
        t = _new(TENSOR)
        t.data = out
        t.grad = None
        t._extra = None
        t._seq = next_seq()
        t._pending = None
        if (ra or rb) and (not _COUNTS[0] or _local.recording):
            t._requires_grad = True
            args = (a, b)
            if not rb:
                t._edges, needs = (a,), _FIRST
            elif ra:
                t._edges, needs = args, _BOTH
            else:
                t._edges, needs = (b,), _SECOND
            t._node = (op, args, (ad, bd), needs, NO_PARAMS)
        else:
            t._requires_grad = False
            t._node = None
            t._edges = ()
        if _COUNTS[1]:
            _slow_path(op, (a, b), NO_PARAMS, t)
        return t

    method.__name__ = method.__qualname__ = op.name
    method.__doc__ = op.formula
    return method


def binary_function(op: Op) -> Callable[[Any, Any], Any]:
    """``binary_method`` as a function (``cr.maximum(a, b)``, ``a.matmul(b)``): an
    operand that is neither a tensor nor a constant is a TypeError naming the op."""
    run = binary_method(op)

    def function(a: Any, b: Any) -> Any:
        result = run(a, b)
        if result is NotImplemented:
            if not isinstance(a, TensorBase) and not isinstance(b, TensorBase):
                return apply(op, a, b)  # two constants
            bad = b if isinstance(a, TensorBase) else a
            raise operand_error(op.name, type(bad).__name__)
        return result  # type: ignore[no-any-return]

    function.__name__ = function.__qualname__ = op.name
    function.__doc__ = op.formula
    return function


def compare(fn: Any) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        if not isinstance(other, (TensorBase, *_CONSTANTS)):
            return NotImplemented
        return leaf(fn(self.data, raw(other)))  # comparisons are not differentiable

    return method


def _slow_path(op: Op, args: tuple, params: Any, t: Any) -> None:
    """After an op, while a forward-mode level or detect_anomaly() is open somewhere."""
    if mode.local.levels:
        push_tangents(op, args, params, t)
    if mode.local.anomaly:
        anomaly.check_forward(op, args, t)


def leaf(data: Any, requires_grad: bool = False) -> Any:
    """A Tensor around an existing array, without checks or copies (engine use)."""
    return bare(TENSOR, data, requires_grad)



def as_tensor(x: Any, where: str) -> Any:
    """``x`` as a Tensor: a Tensor as it is, a numeric ndarray or number as a constant."""
    if isinstance(x, TensorBase):
        return x
    if backend.on_device(x):
        return leaf(x)
    if isinstance(x, _CONSTANTS):
        arr = xp.asarray(x)
        if arr.dtype.kind in "biufc":
            return leaf(arr)
        raise operand_error(where, f"{type(x).__name__} of dtype {arr.dtype}")
    raise operand_error(where, type(x).__name__)
