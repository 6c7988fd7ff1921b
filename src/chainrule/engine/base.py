"""``TensorBase``: an array and the bookkeeping that makes it a graph node.

``Tensor`` (engine/tensor.py) adds the operations. Here are the fields, the
conversions to NumPy and Python, printing, labels and hooks, and the default
floating dtype.

A tensor is its own graph node. One made by an op remembers, in ``_node``,
the op, its inputs, their arrays, which inputs need a gradient and the op's
parameters; a leaf (made by you) has ``_node is None``. Nothing points from
an input to its consumers and no op keeps its output, so a graph is a tree of
plain references that reference counting frees as soon as its root is dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from .. import backend
from ..backend import ndarray, xp
from ..errors import GraphError

# Every tensor takes the next number when it is made, counting down: a tensor's
# inputs always exist before it, so "newest first" is a reverse topological order.
next_seq = itertools.count(0, -1).__next__

_DEFAULT_DTYPE = [xp.dtype(xp.float32)]  # cr.set_default_dtype changes it


def get_default_dtype() -> Any:
    """The floating dtype of tensors made from Python numbers and lists, of the float
    factories and of new layer parameters (float32, as in PyTorch)."""
    return _DEFAULT_DTYPE[0]


def set_default_dtype(dtype: Any) -> None:
    """Set the default floating dtype (``cr.float32`` or ``cr.float64``)."""
    dt = xp.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dt}")
    _DEFAULT_DTYPE[0] = dt


class TensorBase:
    """The array, its gradient and its place in a graph."""

    # _node is None for a leaf, else how the tensor was made, as one tuple
    # (op, inputs as given, their arrays, which need a gradient, op parameters);
    # the arrays are None once backward() has released them. _edges are the
    # inputs that need a gradient (what the sweeps follow); _seq is the
    # tensor's place in creation order, newest lowest; _pending the gradient it
    # has received so far while a backward pass runs; _extra rarely-used
    # things (label, hooks, tangents), None until one is set.
    __slots__ = (
        "data", "grad", "_requires_grad", "_node", "_edges", "_extra", "_seq", "_pending",
        "__weakref__",
    )
    __hash__ = object.__hash__  # identity: == is elementwise

    data: Any
    grad: Any
    _requires_grad: bool  # read by the hot paths; people use the property requires_grad
    _node: tuple | None
    _edges: Any
    _extra: dict | None
    _seq: int
    _pending: Any

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 device: Any = None) -> None:
        arr = to_array(data, dtype, "tensor", device)
        if requires_grad and arr.dtype.kind not in "fc":
            raise TypeError(
                f"tensor: only floating-point tensors can require grad, got dtype {arr.dtype}; "
                "pass dtype=cr.float32 (or float64) or float data"
            )
        self.data = arr
        self.grad = None
        self._requires_grad = bool(requires_grad)
        self._node = None
        self._edges = ()
        self._extra = None
        self._seq = next_seq()
        self._pending = None

    def __setstate__(self, state: Any) -> None:
        # copy, deepcopy and pickle rebuild a tensor here: it takes a fresh place
        # in creation order (after its inputs, which are rebuilt first)
        for name, value in state[1].items():
            setattr(self, name, value)
        self._seq = next_seq()
        self._pending = None

    # ----------------------------------------------------------------- attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape  # type: ignore[no-any-return]

    @property
    def ndim(self) -> int:
        return self.data.ndim  # type: ignore[no-any-return]

    def dim(self) -> int:
        """The number of dimensions (PyTorch's name for ``ndim``)."""
        return self.data.ndim  # type: ignore[no-any-return]

    def size(self, dim: int | None = None) -> Any:
        """The shape, or with ``dim`` the length of that axis (PyTorch's ``size``)."""
        if dim is None:
            return self.data.shape
        nd = self.data.ndim
        if not isinstance(dim, int) or not -nd <= dim < nd:
            raise IndexError(f"size: dim {dim!r} is out of range for {nd} dimension(s)")
        return self.data.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def device(self) -> str:
        """Where the data lives: "cpu", or "cuda:N" (a CuPy array on GPU N)."""
        return backend.device_of(self.data)

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor (ops on it are recorded)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._node is not None:
            raise GraphError(
                f"requires_grad: only a leaf tensor's flag can change; this one was made by "
                f"{self._node[0].name}. For a copy cut from the graph use .detach()"
            )
        if value and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"requires_grad: only floating-point tensors can require grad, this one is "
                f"{self.data.dtype}"
            )
        self._requires_grad = bool(value)

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self) -> Any:
        """The op that made this tensor (``None`` for a leaf)."""
        return self._node[0] if self._node is not None else None

    @property
    def _op(self) -> Any:
        return self._node[0] if self._node is not None else None

    @property
    def _parents(self) -> tuple:
        """The op's inputs as given (empty for a leaf)."""
        return self._node[1] if self._node is not None else ()

    @property
    def label(self) -> str | None:
        """An optional name, shown by ``cr.viz`` and ``cr.explain``."""
        return self._extra.get("label") if self._extra else None

    @label.setter
    def label(self, value: str | None) -> None:
        self._extras()["label"] = value

    def _extras(self) -> dict:
        if self._extra is None:
            self._extra = {}
        return self._extra

    # ----------------------------------------------------------------- conversions
    def _read(self) -> Any:
        """The data, for the host to read: on a GPU, the index checks queued since the
        last read run first (see backend.check_range)."""
        if backend._PENDING:
            backend.flush_checks()
        return self.data

    def numpy(self) -> Any:
        """The data as an ndarray (shared, not copied); a GPU tensor must come to the cpu
        first (``t.cpu().numpy()``)."""
        if backend.on_device(self.data):
            raise TypeError(f"numpy: this tensor is on {self.device}; copy it to the cpu "
                            "first with t.cpu().numpy()")
        return self.data

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(
                f"item: only a tensor with one element converts to a Python number, "
                f"this one has shape {self.shape}"
            )
        return self._read().item()

    def tolist(self) -> Any:
        return self._read().tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        if backend.on_device(self.data):  # as CuPy: no transfer happens by itself
            raise TypeError(f"cannot turn a tensor on {self.device} into a NumPy array "
                            "implicitly; copy it with t.cpu() (or t.cpu().numpy())")
        data = xp.asarray(self.data)
        return data if dtype is None else data.astype(dtype)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._read())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(f"only an integer tensor with one element is an index, not {self!r}")
        return int(self._read())

    def any(self) -> bool:
        return bool(self._read().any())

    def all(self) -> bool:
        return bool(self._read().all())

    def __repr__(self) -> str:
        body = array_text(backend.to_host(self.data))  # printing a GPU tensor copies it
        extras = [f"device='{self.device}'"] if backend.on_device(self.data) else []
        dt = self.data.dtype
        if dt != get_default_dtype() and dt != xp.int64 and dt != xp.bool_:
            extras.append(f"dtype={dt}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node[0].name}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def _repr_html_(self) -> str | None:
        """In a notebook, a tensor made by ops shows its graph, stepping through backward."""
        if self._node is None:
            return None  # a leaf: the plain repr
        from ..viz import notebook_html  # viz is only needed in a notebook

        return notebook_html(self)

    # ----------------------------------------------------------------- graph
    def requires_grad_(self, requires_grad: bool = True) -> TensorBase:
        """Set ``requires_grad`` on a leaf, in place; returns the tensor."""
        self.requires_grad = requires_grad
        return self

    def register_hook(self, fn: Callable[[Any], Any]) -> HookHandle:
        """Call ``fn(grad)`` when this tensor's gradient is computed; it may return a new one.

        Returns a handle whose ``remove()`` takes the hook off again.
        """
        if not self.requires_grad:
            raise GraphError("register_hook: this tensor does not require grad")
        return HookHandle(self._extras().setdefault("hooks", []), fn)

    def register_post_accumulate_grad_hook(self, fn: Callable[[Any], Any]) -> HookHandle:
        """Call ``fn(tensor)`` on a leaf right after ``backward()`` added into its ``.grad``."""
        if not self.requires_grad:
            raise GraphError("register_post_accumulate_grad_hook: this tensor does not require "
                             "grad, so backward() never gives it a .grad")
        if not self.is_leaf:
            raise GraphError("register_post_accumulate_grad_hook: only a leaf accumulates a "
                             ".grad; for an intermediate tensor's gradient use register_hook")
        return HookHandle(self._extras().setdefault("post_accumulate", []), fn)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's ``.grad`` after ``backward()``."""
        if not self.requires_grad:
            raise GraphError("retain_grad: this tensor does not require grad")
        if self._node is not None:
            self._extras()["retain"] = True


class HookHandle:
    """What ``register_hook`` returns: ``handle.remove()`` (or ``handle()``) unhooks."""

    def __init__(self, hooks: list, fn: Callable[..., Any]) -> None:
        hooks.append(fn)
        self._hooks = hooks
        self._fn = fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)

    __call__ = remove


def bare(cls: type, data: Any, requires_grad: bool = False) -> Any:
    """A tensor of class ``cls`` around ``data`` with every slot set and no history: no
    checks, no copy (the engine's own constructor; ops write theirs out, see record.py)."""
    t: Any = object.__new__(cls)
    t.data = data
    t.grad = None
    t._requires_grad = requires_grad
    t._node = None
    t._edges = ()
    t._extra = None
    t._seq = next_seq()
    t._pending = None
    return t


def to_array(data: Any, dtype: Any, where: str, device: Any = None) -> Any:
    """``data`` as a new array. Python numbers and lists of floats take the default
    floating dtype; arrays keep their own unless ``dtype`` says otherwise. With
    ``device`` the array is made there; else where ``data`` is (the cpu for lists)."""
    if isinstance(data, TensorBase):
        data = data.data
    if backend.on_device(data) or device is not None and device != "cpu":
        return _to_device_array(data, dtype, where, device)
    try:
        arr = xp.array(data, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{where}: cannot make a tensor from {type(data).__name__} ({exc}); "
            "pass numbers, nested lists of numbers, or an ndarray"
        ) from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"{where}: cannot make a tensor of dtype {arr.dtype} from {type(data).__name__}; "
            "pass numbers, nested lists of numbers, or an ndarray"
        )
    if dtype is None and arr.dtype == xp.float64 and not isinstance(data, (ndarray, xp.generic)):
        arr = arr.astype(_DEFAULT_DTYPE[0], copy=False)
    return arr


def _to_device_array(data: Any, dtype: Any, where: str, device: Any) -> Any:
    target = backend.device_of(data) if device is None else device
    if backend.on_device(data):
        arr = data.astype(dtype) if dtype is not None else data.copy()
        return backend.to_device(arr, target, where)
    return backend.to_device(to_array(data, dtype, where), target, where)


def array_text(a: Any) -> str:
    """The data as PyTorch prints it: whole floats as ``2.``, others with four decimals
    (scientific when the magnitudes are far apart), every entry the same width."""
    kw: dict[str, Any] = {"separator": ", ", "prefix": "tensor(", "threshold": 200}
    if a.dtype.kind == "f" and a.size:
        finite = a[xp.isfinite(a)]
        if finite.size and (finite != xp.round(finite)).any():
            big = xp.abs(finite).max()
            small = xp.abs(finite[finite != 0]).min() if (finite != 0).any() else 1.0
            sci = big > 1e8 or small < 1e-4 or big / small > 1000
            fmt = "{:.4e}" if sci else "{:.4f}"
            width = max(len(fmt.format(v)) for v in finite.ravel()[:1000])
            kw["formatter"] = {"float_kind": lambda v: fmt.format(v).rjust(width)}
    return str(xp.array2string(a, **kw))
