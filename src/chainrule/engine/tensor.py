"""``Tensor``: an array that remembers how it was computed, and its operations.

Every operation of a tensor is defined below, in one place. Each runs one op
of ``chainrule.ops`` (forward and derivative rules side by side; see
``REGISTRY`` or ``chainrule ops``) through the makers of ``record.py``, which
remember it in the new tensor's ``_node`` while recording. ``backward()``
hands the graph to the reverse sweep (``sweep.py``).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from .. import backend
from ..backend import xp
from ..ops import elementwise, linalg, reduce, shape
from ..ops._util import norm_axes, raw
from ..ops.op import Op
from . import in_place, mode, numpy_bridge, record, sweep
from .base import TensorBase
from .record import apply, binary_function, binary_method, compare, leaf, unary_method


class MaxResult(NamedTuple):
    """What ``max(dim=d)`` and ``min(dim=d)`` return, as in PyTorch."""

    values: Tensor
    indices: Tensor


def _axis(axis: Any, dim: Any, where: str) -> Any:
    if dim is not None and axis is not None:
        raise TypeError(f"{where}: give axis= (NumPy's name) or dim= (PyTorch's), not both")
    return axis if dim is None else dim


class Tensor(TensorBase):
    """An n-dimensional array that remembers how it was computed.

    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ()
    __hash__ = TensorBase.__hash__  # (defining __eq__ below would otherwise unset it)

    # ---------------------------------------------------------- elementwise (ops/elementwise.py)
    __neg__ = unary_method(elementwise.neg)
    exp = unary_method(elementwise.exp)
    log = unary_method(elementwise.log)
    log1p = unary_method(elementwise.log1p)
    sqrt = unary_method(elementwise.sqrt)
    tanh = unary_method(elementwise.tanh)
    sigmoid = unary_method(elementwise.sigmoid)
    relu = unary_method(elementwise.relu)
    abs = __abs__ = unary_method(elementwise.abs)
    sin = unary_method(elementwise.sin)
    cos = unary_method(elementwise.cos)
    erf = unary_method(elementwise.erf)
    __add__ = binary_method(elementwise.add)
    __radd__ = binary_method(elementwise.add, reflected=True)
    __sub__ = binary_method(elementwise.sub)
    __rsub__ = binary_method(elementwise.sub, reflected=True)
    __mul__ = binary_method(elementwise.mul)
    __rmul__ = binary_method(elementwise.mul, reflected=True)
    __truediv__ = binary_method(elementwise.div)
    __rtruediv__ = binary_method(elementwise.div, reflected=True)
    __pow__ = binary_method(elementwise.pow)
    __rpow__ = binary_method(elementwise.pow, reflected=True)
    pow = binary_function(elementwise.pow)
    maximum = binary_function(elementwise.maximum)
    minimum = binary_function(elementwise.minimum)
    __matmul__ = binary_method(linalg.matmul)
    __rmatmul__ = binary_method(linalg.matmul, reflected=True)
    matmul = binary_function(linalg.matmul)

    def __pos__(self) -> Tensor:
        return self

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy meeting a Tensor: ``array + t`` is ``t.__radd__(array)``, recorded;
        ``np.exp(t)`` is ``t.exp()``; writing into an array (``p.data -= lr * p.grad``)
        computes on the arrays (see numpy_bridge.py)."""
        return numpy_bridge.array_ufunc(ufunc, method, inputs, kwargs)

    def clip(self, lo: Any = None, hi: Any = None) -> Tensor:
        """Clamp into ``[lo, hi]`` (either may be None); the gradient is 1 inside, 0 outside."""
        if lo is None and hi is None:
            raise ValueError("clip: give at least one of lo and hi")
        for bound in (lo, hi):
            if isinstance(bound, Tensor) and bound.requires_grad:
                raise TypeError(
                    "clip: the bounds are constants, but one requires grad; for bounds to "
                    "differentiate, use cr.minimum(cr.maximum(x, lo), hi)"
                )
        return apply(elementwise.clip, self, lo=raw(lo), hi=raw(hi))

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        """PyTorch's name for ``clip``."""
        return self.clip(min, max)

    __lt__ = compare(xp.less)
    __le__ = compare(xp.less_equal)
    __gt__ = compare(xp.greater)
    __ge__ = compare(xp.greater_equal)
    __eq__ = compare(xp.equal)  # type: ignore[assignment]
    __ne__ = compare(xp.not_equal)  # type: ignore[assignment]
    __and__ = compare(xp.logical_and)
    __or__ = compare(xp.logical_or)

    def __invert__(self) -> Tensor:
        return leaf(xp.invert(self.data))

    # ---------------------------------------------------------- reductions (ops/reduce.py)
    def _reduce(self, op: Op, axis: Any, keepdims: bool, dim: Any, keepdim: bool | None) -> Tensor:
        axes = norm_axes(_axis(axis, dim, op.name), self.ndim, op.name)
        return apply(op, self, axes=axes, keepdims=bool(keepdims or keepdim))

    def sum(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> Tensor:
        """Sum over ``axis`` (None: all)."""
        return self._reduce(reduce.sum, axis, keepdims, dim, keepdim)

    def mean(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
             keepdim: bool | None = None) -> Tensor:
        """Mean over ``axis`` (None: all): the sum times 1/n."""
        axes = norm_axes(_axis(axis, dim, "mean"), self.ndim, "mean")
        if not self.data.size and reduce.count(self.shape, axes) == 0:
            raise ValueError(f"mean: the axes {axis!r} of a tensor of shape {self.shape} are empty")
        return apply(reduce.mean, self, axes=axes, keepdims=bool(keepdims or keepdim))

    def _extremum(self, op: Op, axis: Any, keepdims: bool, dim: Any, keepdim: bool | None) -> Any:
        if self.data.size == 0:
            raise ValueError(f"{op.name}: the tensor is empty (shape {self.shape})")
        values = self._reduce(op, axis, keepdims, dim, keepdim)
        if dim is None:
            return values  # NumPy's max(axis=d): the values
        find = self.argmax if op is reduce.max else self.argmin
        return MaxResult(values, find(dim=dim, keepdim=keepdim))  # PyTorch's max(dim=d)

    def max(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> Any:
        """Maximum over ``axis`` (the gradient is shared among ties); ``max(dim=d)``
        returns ``(values, indices)`` as PyTorch's does."""
        return self._extremum(reduce.max, axis, keepdims, dim, keepdim)

    def min(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> Any:
        """Minimum over ``axis``; ``min(dim=d)`` returns ``(values, indices)``."""
        return self._extremum(reduce.min, axis, keepdims, dim, keepdim)

    def argmax(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
               keepdim: bool | None = None) -> Tensor:
        """The index of the maximum (of the flattened tensor when ``axis`` is None)."""
        axis = _axis(axis, dim, "argmax")
        found = self.data.argmax(axis=axis, keepdims=bool(keepdims or keepdim))
        return leaf(backend.array_of(found))

    def argmin(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
               keepdim: bool | None = None) -> Tensor:
        """The index of the minimum (of the flattened tensor when ``axis`` is None)."""
        axis = _axis(axis, dim, "argmin")
        found = self.data.argmin(axis=axis, keepdims=bool(keepdims or keepdim))
        return leaf(backend.array_of(found))

    def prod(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
             keepdim: bool | None = None) -> Tensor:
        """Product over ``axis``."""
        return self._reduce(reduce.prod, axis, keepdims, dim, keepdim)

    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0, *, dim: Any = None,
            keepdim: bool | None = None) -> Tensor:
        """Variance over ``axis``: the mean squared deviation, divided by n - ddof."""
        axes = norm_axes(_axis(axis, dim, "var"), self.ndim, "var")
        n = reduce.count(self.shape, axes)
        if n - ddof <= 0:
            raise ValueError(f"var: {n} element(s) with ddof={ddof} leave no degrees of freedom")
        d = self - self.mean(axes, keepdims=True)
        return (d * d).sum(axes, bool(keepdims or keepdim)) * (1.0 / (n - ddof))

    def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0, *, dim: Any = None,
            keepdim: bool | None = None) -> Tensor:
        """Standard deviation over ``axis``: the square root of ``var``."""
        return self.var(axis, keepdims, ddof, dim=dim, keepdim=keepdim).sqrt()

    def _along(self, op: Op, axis: Any, dim: Any, keepdims: bool | None = None) -> Tensor:
        if self.data.size == 0:
            raise ValueError(f"{op.name}: the tensor is empty (shape {self.shape})")
        axes = norm_axes(_axis(axis, dim, op.name), self.ndim, op.name)
        if keepdims is None:
            return apply(op, self, axes=axes)
        return apply(op, self, axes=axes, keepdims=keepdims)

    def logsumexp(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
                  keepdim: bool | None = None) -> Tensor:
        """log Σ exp(x) over ``axis``, as max + log Σ exp(x - max): it cannot overflow."""
        return self._along(reduce.logsumexp, axis, dim, bool(keepdims or keepdim))

    def softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """exp(x) / Σ exp(x) along ``axis`` (default -1), shifted so it cannot overflow."""
        return self._along(reduce.softmax, -1 if axis is None and dim is None else axis, dim)

    def log_softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """x - logsumexp(x) along ``axis`` (default -1), without overflow."""
        return self._along(reduce.log_softmax, -1 if axis is None and dim is None else axis, dim)

    # ---------------------------------------------------------- shape (ops/shape.py)
    def reshape(self, *new: Any) -> Tensor:
        """The same elements in a new shape (one dimension may be -1)."""
        return apply(shape.reshape, self, shape=shape.reshape_target(self.shape, new))

    view = reshape

    def permute(self, *axes: Any) -> Tensor:
        """Reorder the axes: ``axes`` is a permutation of ``range(ndim)``."""
        return apply(shape.transpose, self, perm=shape.permutation(axes, self.ndim, self.shape))

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        """Swap two axes (default: the last two)."""
        return apply(shape.transpose, self, perm=shape.swap(dim0, dim1, self.ndim))

    @property
    def T(self) -> Tensor:
        """All axes reversed."""
        return apply(shape.transpose, self, perm=tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (a batch of matrices, each transposed)."""
        return self.transpose(-2, -1)

    def broadcast_to(self, new: Sequence[int]) -> Tensor:
        """Repeat to ``new`` shape (without copying), by NumPy's broadcasting rule."""
        return apply(shape.broadcast_to, self, shape=shape.broadcast_target(self.shape, new))

    def expand(self, *sizes: Any) -> Tensor:
        """PyTorch's ``expand``: ``broadcast_to``, where -1 keeps a size."""
        return apply(shape.broadcast_to, self, shape=shape.expand_target(self.shape, sizes))

    def squeeze(self, axis: Any = None) -> Tensor:
        """Drop axes of size 1 (all of them, or those named by ``axis``)."""
        return self.reshape(shape.squeezed(self.shape, axis))

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert an axis of size 1 at ``axis``."""
        return self.reshape(shape.unsqueezed(self.shape, axis))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge axes ``start_dim..end_dim`` into one."""
        return self.reshape(shape.flattened(self.shape, start_dim, end_dim))

    def pad(self, pad_width: Any, value: float = 0.0) -> Tensor:
        """Constant padding, NumPy style: ``((before, after), ...)`` per axis, or one pair."""
        return apply(shape.pad, self, widths=shape.pad_widths(pad_width, self.shape), value=value)

    clone = unary_method(shape.clone)

    def astype(self, dtype: Any) -> Tensor:
        """The same values in another dtype (gradients are cast back)."""
        if xp.dtype(dtype) == self.data.dtype:
            return self
        return apply(shape.astype, self, dtype=xp.dtype(dtype))

    def to(self, target: Any = None, dtype: Any = None, *, device: Any = None) -> Tensor:
        """PyTorch's ``to``: a dtype (``t.to(cr.float64)``), a device (``t.to("cuda")``),
        both (``t.to("cuda", cr.float32)``, or the keywords ``device=``, ``dtype=``), or
        another tensor's dtype and device. A copy to another device is recorded (its
        gradient goes back); nothing else ever moves between devices. Returns ``self``
        when nothing changes."""
        if device is not None:
            if target is not None:
                raise TypeError(f"to: got {target!r} and device={device!r}; pass the device "
                                "once (t.to('cuda', dtype) or t.to(device=..., dtype=...))")
            target = str(device)
        if target is None:
            return self if dtype is None else self.astype(dtype)
        if isinstance(target, TensorBase):
            return self.to(target.device, target.dtype)
        if type(target) is int:  # a GPU's number, as in PyTorch
            target = f"cuda:{target}"
        if isinstance(target, str):
            moved = self
            if backend.device_of(self.data) != target and not (
                    target == "cuda" and backend.device_of(self.data) == "cuda:0"):
                moved = apply(shape.to_device, self, device=target)
            return moved if dtype is None else moved.astype(dtype)
        try:
            as_dtype = xp.dtype(target)
        except TypeError:
            raise TypeError(f"to: expected a dtype, a device or a tensor, got {target!r}"
                            ) from None
        return self.astype(as_dtype)

    def cuda(self, index: int = 0) -> Tensor:
        """A copy on GPU ``index`` (recorded, as ``to``)."""
        return self.to(f"cuda:{index}")

    def float(self) -> Tensor:
        """As float32 (a recorded cast)."""
        return self.astype(xp.float32)

    def double(self) -> Tensor:
        """As float64 (a recorded cast)."""
        return self.astype(xp.float64)

    def cpu(self) -> Tensor:
        """A copy on the cpu (this tensor, if it is there)."""
        return self.to("cpu")

    def __getitem__(self, index: Any) -> Tensor:
        """NumPy indexing: ints, slices (negative steps too), None, Ellipsis, integer and
        boolean arrays; repeated indices accumulate their gradients."""
        idx = shape.plain_index(index, Tensor)
        if backend.on_device(self.data):
            shape.check_device_index(idx, self.shape, "getitem")
        try:
            return apply(shape.getitem, self, index=idx, split=shape.splits_advanced(idx))
        except IndexError as exc:
            raise IndexError(f"getitem: {exc} (tensor of shape {self.shape}, index {index!r})"
                             ) from None

    def __setitem__(self, index: Any, value: Any) -> None:
        if self._requires_grad and mode.recording():
            raise sweep.GraphError(
                "setitem: assigning into a tensor that requires grad, while recording, would "
                "corrupt its gradient; build a new tensor (cr.where, cr.concatenate), or "
                "assign under cr.no_grad()"
            )
        idx = shape.plain_index(index, Tensor)
        if backend.on_device(self.data):
            shape.check_device_index(idx, self.shape, "setitem")
        v = raw(value)
        if backend.is_array(v) and backend.device_of(v) != backend.device_of(self.data):
            # NumPy would read a one-element GPU value through float(): a hidden transfer
            raise in_place.error("setitem", self, value, TypeError("devices differ"), idx)
        try:
            self.data[idx] = v
        except (ValueError, TypeError) as exc:
            raise in_place.error("setitem", self, value, exc, idx) from None
        in_place.stamp(self)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    # ---------------------------------------------------------- in place (see in_place.py)
    def __iadd__(self, other: Any) -> Tensor:
        return in_place.run(self, elementwise.add, other, "+=")

    def __isub__(self, other: Any) -> Tensor:
        return in_place.run(self, elementwise.sub, other, "-=")

    def __imul__(self, other: Any) -> Tensor:
        return in_place.run(self, elementwise.mul, other, "*=")

    def __itruediv__(self, other: Any) -> Tensor:
        return in_place.run(self, elementwise.div, other, "/=")

    def add_(self, other: Any, *, alpha: builtins.float = 1) -> Tensor:
        """self += alpha * other, in place."""
        return in_place.run(self, elementwise.add, other if alpha == 1 else other * alpha, "add_")

    def sub_(self, other: Any, *, alpha: builtins.float = 1) -> Tensor:
        """self -= alpha * other, in place."""
        return in_place.run(self, elementwise.sub, other if alpha == 1 else other * alpha, "sub_")

    def mul_(self, other: Any) -> Tensor:
        return in_place.run(self, elementwise.mul, other, "mul_")

    def div_(self, other: Any) -> Tensor:
        return in_place.run(self, elementwise.div, other, "div_")

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        """Clamp into [min, max], in place."""
        return in_place.run(self, elementwise.clip, (min, max), "clamp_")

    def fill_(self, value: Any) -> Tensor:
        """Every element set to ``value``, in place."""
        return in_place.run(self, None, value, "fill_")

    def zero_(self) -> Tensor:
        """Every element set to 0, in place."""
        return in_place.run(self, None, 0, "zero_")

    def copy_(self, src: Any) -> Tensor:
        """``src``'s values (broadcast, cast to this dtype) copied in, in place."""
        return in_place.run(self, None, src, "copy_")

    # ---------------------------------------------------------- graph
    def detach(self) -> Tensor:
        """The same data, cut from the graph (no grad, no history)."""
        return leaf(self.data)

    def backward(self, gradient: Any = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Backpropagate from this tensor, accumulating into each leaf's ``.grad``.

        A non-scalar tensor needs ``gradient`` (the vector of the
        vector-Jacobian product). The buffers saved for the rules are released
        afterwards unless ``retain_graph`` (the graph itself stays, to be drawn
        and explained); ``create_graph`` records the backward pass so the
        gradients can be differentiated again.
        """
        if not self._requires_grad:
            raise sweep.GraphError(
                "backward: this tensor does not require grad, so it has no graph; "
                "create the inputs with requires_grad=True"
            )
        seed = sweep.seed_for(self, gradient, "backward")
        if create_graph:
            if isinstance(gradient, Tensor) and gradient._requires_grad:
                seed = gradient  # keep the cotangent's own graph: d(vᵀJ)/dv = J
            else:
                seed = leaf(seed)
        sweep.sweep(self, seed, leaf, retain_graph=retain_graph or create_graph,
                    create_graph=create_graph)
        self._extras()["backward_ran"] = True

    _apply = staticmethod(apply)  # how ops.traced records an op on Tensors


record.TENSOR = Tensor  # the makers make tensors of this class
