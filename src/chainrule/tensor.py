"""The tensor engine: ``Tensor``, the primitive-op record ``Op``, and the two sweeps.

A Tensor is also its own graph node. One made by an op remembers (in
``_node``) the op, its inputs and their arrays, which inputs need a gradient,
and the op's parameters; a leaf has ``_node is None``. Nothing points from
an input to its consumers and no op keeps its output, so a graph is a tree of plain references that
reference counting frees as soon as the user drops its root.

Reverse mode (``backprop``) walks the graph once from the root with the
shared ``graph.toposort`` and calls each op's vector-Jacobian product rule;
no Jacobian is ever formed. Forward mode (``jvp``) carries tangents along
while the forward computation runs, through each op's Jacobian-vector
product rule. Both kinds of rule are written once, against an array
namespace ``m``: NumPy arrays in the fast first-order path, Tensors when the
derivative itself must be differentiable (``create_graph=True``, nested
transforms).
"""

from __future__ import annotations

import contextlib
import itertools
import numbers
from collections.abc import Callable, Iterator, Sequence
from heapq import heappop, heappush
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from . import backend
from .backend import xp
from .errors import GraphError, ShapeError
from .graph import toposort

_ndarray = backend.ndarray
_new = object.__new__

# --------------------------------------------------------------------------- modes

_GRAD_ENABLED = True  # record graphs?
# Every tensor takes the next number when it is made, counting down: a tensor's
# inputs always exist before it, so "newest first" is a reverse topological order.
_next_seq = itertools.count(0, -1).__next__
_ACTIVE_LEVELS: list[int] = []  # forward-mode sweeps now running, innermost last
_LEVEL_IDS = itertools.count(1)


def is_grad_enabled() -> bool:
    """Whether operations on tensors that require grad are recorded."""
    return _GRAD_ENABLED


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that switches graph recording on or off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._before: list[bool] = []

    def __enter__(self) -> None:
        global _GRAD_ENABLED
        self._before.append(_GRAD_ENABLED)
        _GRAD_ENABLED = self.enabled

    def __exit__(self, *exc: object) -> None:
        global _GRAD_ENABLED
        _GRAD_ENABLED = self._before.pop()


def no_grad() -> _GradMode:
    """Stop recording: ``with cr.no_grad(): ...`` or ``@cr.no_grad()``."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record again inside a ``no_grad`` block; also a decorator."""
    return _GradMode(True)


def set_grad_enabled(enabled: bool) -> _GradMode:
    return _GradMode(enabled)


# --------------------------------------------------------------------------- ops

Rule = Callable[..., Any]


class Op:
    """A differentiable primitive: forward on arrays, and its derivative rules.

    ``forward(*arrays, **params)`` computes the output array. ``vjps[i](m, g,
    out, *inputs, **params)`` is the vector-Jacobian product for input ``i``
    (``None``: not differentiable in that input); ``g`` may carry extra
    leading (batch) axes, so rules address axes from the end, and the engine
    sums a result back to the input's shape (un-broadcasting) in one place.
    ``jvp(m, tangents, out, *inputs, **params)`` pushes input tangents
    forward (``None`` for an input without one). Elementwise ops need no
    ``jvp``: their Jacobian is diagonal, so the VJP rule applied to a tangent
    is the JVP. ``describe(*arrays)``, if given, says why inputs that made
    ``forward`` raise ValueError do not fit (the default names their shapes).
    """

    __slots__ = (
        "name", "forward", "vjps", "jvp", "elementwise", "batchable", "plain", "exact", "freed",
        "describe", "rules_for",
    )

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        vjps: Sequence[Rule | None] | Rule,
        jvp: Rule | None = None,
        *,
        elementwise: bool = False,
        batchable: bool = True,
        describe: Callable[..., str] | None = None,
    ) -> None:
        self.name = name
        self.describe = describe
        self.forward = forward
        self.vjps = vjps
        self.jvp = jvp
        self.elementwise = elementwise
        self.batchable = batchable
        # plain: one rule per input, called directly by the sweep (no vjp_all override)
        self.plain = not callable(vjps) and type(self).vjp_all is Op.vjp_all
        # exact: a one-input built-in op's rule returns its input's shape and dtype
        # (only ops with several inputs broadcast or mix dtypes)
        self.exact = self.plain and len(vjps) == 1  # type: ignore[arg-type]
        self.freed = (self, None, None, None, None)  # a node's record once backward() freed it
        # rules_for[needs]: the (input index, rule) pairs the sweep runs for a node
        # whose inputs need gradients as ``needs`` says, worked out once per pattern
        self.rules_for: dict[tuple[bool, ...], tuple[tuple[int, Rule], ...]] = {}
        if self.plain and len(vjps) <= 4:  # type: ignore[arg-type]
            for needs in itertools.product((False, True), repeat=len(vjps)):  # type: ignore[arg-type]
                self.rules_for[needs] = tuple(
                    (i, rule)
                    for i, (rule, need) in enumerate(zip(vjps, needs, strict=True))  # type: ignore[arg-type]
                    if need and rule is not None
                )

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def differentiable(self, i: int) -> bool:
        return callable(self.vjps) or self.vjps[i] is not None

    def vjp_all(
        self, m: Any, g: Any, out: Any, inputs: tuple, params: Any, needed: Sequence[bool]
    ) -> list[Any]:
        """The gradient for each needed input (``None`` elsewhere)."""
        vjps = self.vjps
        if callable(vjps):  # variadic op: one rule taking the input's index
            return [
                vjps(i, m, g, out, *inputs, **params) if need else None
                for i, need in enumerate(needed)
            ]
        result = []
        for rule, need in zip(vjps, needed, strict=True):
            result.append(rule(m, g, out, *inputs, **params) if need and rule else None)
        return result

    def tangent(self, m: Any, tangents: tuple, out: Any, inputs: tuple, params: Any) -> Any:
        """The output's tangent given the inputs' tangents (``None`` = zero)."""
        if self.jvp is not None:
            return self.jvp(m, tangents, out, *inputs, **params)
        if not self.elementwise:
            raise NotImplementedError(f"{self.name} has no forward-mode (jvp) rule")
        total = None
        for i, t in enumerate(tangents):
            if t is None or not self.differentiable(i):
                continue
            x = inputs[i]
            lead = t.ndim - _ndim(x)
            if lead and _ndim(x) < _ndim(out):  # line the tangent up with the output's axes
                t = m.reshape(t, t.shape[:lead] + (1,) * (_ndim(out) - _ndim(x)) + x.shape)
            term = self.vjp_all(m, t, out, inputs, params, [j == i for j in range(len(inputs))])[i]
            total = term if total is None else total + term
            full = tuple(t.shape[:lead]) + tuple(out.shape)
        if total is not None and tuple(total.shape) != full:  # e.g. the tangent of a + b
            total = m.broadcast_to(total, full)  # where only the smaller input moves
        return total


def _ndim(x: Any) -> int:
    return x.ndim if hasattr(x, "ndim") else 0


# --------------------------------------------------------------------------- tensor


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    # _node is None for a leaf, else how the tensor was made, as one tuple
    # (op, inputs as given, their arrays, which need a gradient, op parameters);
    # _edges are the inputs that need a gradient (what the traversal follows);
    # _seq is the tensor's place in creation order, newest lowest, and _pending
    # the gradient it has received so far while backward() runs (see _sweep).
    __slots__ = (
        "data", "grad", "requires_grad", "_node", "_edges", "_extra", "_seq", "_pending",
        "__weakref__",
    )
    __array_ufunc__ = None  # NumPy hands mixed expressions to Tensor's reflected operators
    __hash__ = object.__hash__  # identity: == is elementwise

    data: Any
    grad: Tensor | None
    requires_grad: bool
    _node: tuple | None
    _edges: Any
    _extra: dict | None
    _seq: int
    _pending: Any

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        arr = _to_array(data, dtype, "tensor")
        if requires_grad and arr.dtype.kind not in "fc":
            raise TypeError(
                f"tensor: only floating-point tensors can require grad, got dtype {arr.dtype}; "
                "pass dtype=float64 (or float32) or float data"
            )
        self.data = arr
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._node = None
        self._edges = ()
        self._extra = None
        self._seq = _next_seq()
        self._pending = None

    def __setstate__(self, state: Any) -> None:
        # copy, deepcopy and pickle rebuild a tensor here: it takes a fresh place
        # in creation order (after its inputs, which are rebuilt first)
        for name, value in state[1].items():
            setattr(self, name, value)
        self._seq = _next_seq()
        self._pending = None

    if TYPE_CHECKING:  # bound in ops/__init__.py, declared here for type checkers
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __lt__(self, other: Any) -> Tensor: ...
        def __le__(self, other: Any) -> Tensor: ...
        def __gt__(self, other: Any) -> Tensor: ...
        def __ge__(self, other: Any) -> Tensor: ...
        def exp(self) -> Tensor: ...
        def log(self) -> Tensor: ...
        def sqrt(self) -> Tensor: ...
        def tanh(self) -> Tensor: ...
        def sigmoid(self) -> Tensor: ...
        def relu(self) -> Tensor: ...
        def abs(self) -> Tensor: ...
        def sin(self) -> Tensor: ...
        def cos(self) -> Tensor: ...
        def erf(self) -> Tensor: ...
        def clip(self, lo: Any = None, hi: Any = None) -> Tensor: ...
        def maximum(self, other: Any) -> Tensor: ...
        def minimum(self, other: Any) -> Tensor: ...
        def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor: ...
        def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor: ...
        def max(self, axis: Any = None, keepdims: bool = False) -> Tensor: ...
        def min(self, axis: Any = None, keepdims: bool = False) -> Tensor: ...
        def prod(self, axis: Any = None, keepdims: bool = False) -> Tensor: ...
        def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor: ...
        def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor: ...
        def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor: ...
        def softmax(self, axis: int = -1) -> Tensor: ...
        def log_softmax(self, axis: int = -1) -> Tensor: ...
        def reshape(self, *shape: Any) -> Tensor: ...
        def view(self, *shape: Any) -> Tensor: ...
        def permute(self, *axes: Any) -> Tensor: ...
        def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor: ...
        def expand(self, *shape: Any) -> Tensor: ...
        def broadcast_to(self, shape: Sequence[int]) -> Tensor: ...
        def squeeze(self, axis: Any = None) -> Tensor: ...
        def unsqueeze(self, axis: int) -> Tensor: ...
        def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor: ...
        def pad(self, pad_width: Any, value: float = 0.0) -> Tensor: ...
        def astype(self, dtype: Any) -> Tensor: ...
        def matmul(self, other: Any) -> Tensor: ...
        @property
        def T(self) -> Tensor: ...
        @property
        def mT(self) -> Tensor: ...

    # ----------------------------------------------------------------- attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape  # type: ignore[no-any-return]

    @property
    def ndim(self) -> int:
        return self.data.ndim  # type: ignore[no-any-return]

    @property
    def size(self) -> int:
        return self.data.size  # type: ignore[no-any-return]

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def _op(self) -> Op | None:
        """The op that made this tensor, or None for a leaf."""
        return self._node[0] if self._node is not None else None

    @property
    def _parents(self) -> tuple | None:
        """The op's inputs as given (None once backward() has freed them)."""
        return self._node[1] if self._node is not None else ()

    @property
    def grad_fn(self) -> Op | None:
        """The op that made this tensor (``None`` for a leaf)."""
        return self._op

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

    def numpy(self) -> Any:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(
                f"item: only a tensor with one element converts to a Python number, "
                f"this one has shape {self.shape}"
            )
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        data = xp.asarray(self.data)
        return data if dtype is None else data.astype(dtype)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(f"only an integer tensor with one element is an index, not {self!r}")
        return int(self.data)

    def any(self) -> bool:
        return bool(self.data.any())

    def all(self) -> bool:
        return bool(self.data.all())

    def __repr__(self) -> str:
        body = _array_text(self.data)
        extras = []
        if self.data.dtype != xp.float64 and not (
            self.data.dtype == xp.int64 or self.data.dtype == xp.bool_
        ):
            extras.append(f"dtype={self.data.dtype}")
        if self._op is not None:
            extras.append(f"grad_fn=<{self._op.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ----------------------------------------------------------------- graph
    def detach(self) -> Tensor:
        """The same data, cut from the graph (no grad, no history)."""
        return _leaf(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not self.is_leaf:
            raise GraphError(
                "requires_grad_: only a leaf tensor's flag can change; "
                "use .detach().requires_grad_() for a new leaf"
            )
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"requires_grad_: only floating-point tensors can require grad, "
                f"this one is {self.data.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]) -> HookHandle:
        """Call ``fn(grad)`` when this tensor's gradient is computed; it may return a new one.

        Returns a handle whose ``remove()`` takes the hook off again.
        """
        if not self.requires_grad:
            raise GraphError("register_hook: this tensor does not require grad")
        hooks = self._extras().setdefault("hooks", [])
        hooks.append(fn)
        return HookHandle(hooks, fn)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> HookHandle:
        """Call ``hook(self)`` each time ``backward()`` has just added into this leaf's ``.grad``.

        The hook sees the accumulated ``.grad`` (data-parallel training uses
        this to learn that a parameter's gradient is ready to be reduced).
        Returns a handle whose ``remove()`` takes the hook off again.
        """
        if not self.requires_grad:
            raise GraphError(
                "register_post_accumulate_grad_hook: this tensor does not require grad"
            )
        if self._node is not None:
            raise GraphError(
                "register_post_accumulate_grad_hook: only a leaf accumulates into .grad, and this "
                f"tensor was made by {self._node[0].name}; use register_hook for its gradient"
            )
        hooks = self._extras().setdefault("post_accumulate_hooks", [])
        hooks.append(hook)
        return HookHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's ``.grad`` after ``backward()``."""
        if not self.requires_grad:
            raise GraphError("retain_grad: this tensor does not require grad")
        if self._op is not None:
            self._extras()["retain"] = True

    def backward(
        self, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Backpropagate from this tensor, accumulating into each leaf's ``.grad``.

        A non-scalar tensor needs ``gradient`` (the vector of the
        vector-Jacobian product). The graph's buffers are freed afterwards
        unless ``retain_graph``; ``create_graph`` records the backward pass
        so the gradients can be differentiated again.
        """
        if not self.requires_grad:
            raise GraphError(
                "backward: this tensor does not require grad, so it has no graph; "
                "create the inputs with requires_grad=True"
            )
        seed = _seed(self, gradient, "backward")
        if not create_graph:
            _sweep(self, seed, retain_graph)
            return
        if isinstance(gradient, Tensor) and gradient.requires_grad:
            seed = gradient  # keep the cotangent's own graph: d(vᵀJ)/dv = J
        backprop(self, seed, retain_graph=True, create_graph=True)

    # ----------------------------------------------------------------- indexing
    def __getitem__(self, index: Any) -> Tensor:
        from .ops import shape

        return shape.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        if self.requires_grad and _GRAD_ENABLED:
            raise GraphError(
                "setitem: in-place assignment into a tensor that requires grad would corrupt "
                "its gradient; build a new tensor (cr.where, cr.concatenate) or assign under "
                "cr.no_grad()"
            )
        self.data[_plain_index(index)] = value.data if isinstance(value, Tensor) else value


class HookHandle:
    """What ``register_hook`` returns: ``handle.remove()`` (or ``handle()``) unhooks."""

    def __init__(self, hooks: list, fn: Callable[..., Any]) -> None:
        self._hooks = hooks
        self._fn = fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)

    __call__ = remove


def _leaf(data: Any, requires_grad: bool = False) -> Tensor:
    """A Tensor around an existing array, without checks or copies (engine use)."""
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t.requires_grad = requires_grad
    t._node = None
    t._edges = ()
    t._extra = None
    t._seq = _next_seq()
    t._pending = None
    return t


def _array_text(a: Any) -> str:
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


def _to_array(data: Any, dtype: Any, where: str) -> Any:
    if isinstance(data, Tensor):
        data = data.data
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
    return arr


def _plain_index(index: Any) -> Any:
    """Turn Tensors and lists inside an index into arrays NumPy understands."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def _seed(root: Tensor, gradient: Any, where: str) -> Any:
    if gradient is None:
        if root.data.size != 1:
            raise GraphError(
                f"{where}: the output has shape {root.shape}, so there is no single gradient "
                "to start from; pass gradient= an array of that shape (the vector of the "
                "vector-Jacobian product), or reduce first, e.g. y.sum().backward()"
            )
        dtype = root.data.dtype
        return xp.array(1, dtype) if root.data.ndim == 0 else xp.ones(root.data.shape, dtype)
    g = gradient.data if isinstance(gradient, Tensor) else xp.asarray(gradient)
    if g.shape != root.shape:
        raise ShapeError(
            f"{where}: gradient has shape {g.shape} but the output has shape {root.shape}; "
            "they must match"
        )
    return g.astype(root.data.dtype, copy=False)


# --------------------------------------------------------------------------- forward


_NO_PARAMS: dict[str, Any] = {}


def apply(op: Op, *args: Any, **params: Any) -> Tensor:
    """Run ``op`` on ``args`` (Tensors or constants) and record it if needed."""
    if len(args) == 1 and isinstance(args[0], Tensor):  # one tensor, with parameters
        x = args[0]
        xd = x.data
        try:
            out = op.forward(xd, **params)
        except (ValueError, TypeError) as exc:
            raise _forward_error(op, [xd], exc) from None
        if x.requires_grad:
            return _record(op, args, (xd,), _ONE, args, params or _NO_PARAMS, out)
        return _record(op, args, (xd,), (False,), (), params or _NO_PARAMS, out)
    arrays = []
    needs = []
    for a in args:
        if isinstance(a, Tensor):
            arrays.append(a.data)
            needs.append(a.requires_grad)
        else:
            arrays.append(a)
            needs.append(False)
    try:
        out = op.forward(*arrays, **params)
    except (ValueError, TypeError) as exc:
        raise _forward_error(op, arrays, exc) from None
    edges = tuple(itertools.compress(args, needs))
    return _record(op, args, tuple(arrays), tuple(needs), edges, params or _NO_PARAMS, out)


# The two makers below give each unary and binary op its Tensor method: ``apply``
# with ``_record`` written out in place, one call per op, since they run for
# nearly every op a model makes. They allocate no tuple they can share (the
# edges are the inputs themselves when every input needs a gradient).
_ONE: tuple = (True,)
_BOTH, _FIRST, _SECOND = (True, True), (True, False), (False, True)
_PY_NUMBERS = {float, int}
_CONSTANT_TYPES = {float, int, backend.ndarray}  # checked by type first: isinstance
_CONSTANTS = (numbers.Number, backend.ndarray, xp.generic)  # on an ABC is slow


def operand_error(where: str, what: str) -> TypeError:
    """The error for an op input that is neither a Tensor nor a number or ndarray."""
    return TypeError(f"{where}: expected a Tensor, an ndarray or a number, got {what}")


def unary_method(op: Op) -> Callable[[Any], Tensor]:
    """The method ``x.<op>()``, and the function ``cr.<op>(x)``: run a one-input,
    parameter-free op and record it. A constant ``x`` (number, ndarray) gives
    an untracked tensor; anything else is a TypeError naming the op."""
    forward = op.forward

    def method(x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            if type(x) in _CONSTANT_TYPES or isinstance(x, _CONSTANTS):
                return apply(op, x)
            raise operand_error(op.name, type(x).__name__)
        xd = x.data
        try:
            out = forward(xd)
        except (ValueError, TypeError) as exc:
            raise _forward_error(op, [xd], exc) from None
        if type(out) is not _ndarray:
            out = xp.asarray(out)
        t = _new(Tensor)
        t.data = out
        t.grad = None
        t._extra = None
        t._seq = _next_seq()
        t._pending = None
        if x.requires_grad and _GRAD_ENABLED:
            t.requires_grad = True
            t._edges = args = (x,)
            t._node = (op, args, (xd,), _ONE, _NO_PARAMS)
        else:
            t.requires_grad = False
            t._node = None
            t._edges = ()
        if _ACTIVE_LEVELS:
            _push_tangents(op, (x,), _NO_PARAMS, t)
        return t

    method.__name__ = method.__qualname__ = op.name
    return method


def binary_method(op: Op, reflected: bool = False) -> Callable[[Any, Any], Any]:
    """The operator ``a <op> b`` (``b <op> a`` if ``reflected``) for a two-input,
    parameter-free op. Either side may be a constant (number or ndarray); any
    other operand gives NotImplemented, so Python can try the other side."""
    forward = op.forward

    def method(a: Any, b: Any) -> Any:
        if reflected:
            a, b = b, a
        # A Python number next to a float tensor is converted once, to a 0-d array
        # of the tensor's dtype: NumPy would convert it again on every call (the
        # forward, and the backward's g * b), and the numbers come out the same.
        if isinstance(a, Tensor):
            ad, ra = a.data, a.requires_grad
            if isinstance(b, Tensor):
                bd, rb = b.data, b.requires_grad
            elif type(b) in _PY_NUMBERS and ad.dtype.kind in "fc":
                bd, rb = xp.asarray(b, ad.dtype), False
            elif type(b) in _CONSTANT_TYPES or isinstance(b, _CONSTANTS):
                bd, rb = b, False
            else:
                return NotImplemented
        elif isinstance(b, Tensor):
            bd, rb = b.data, b.requires_grad
            if type(a) in _PY_NUMBERS and bd.dtype.kind in "fc":
                ad, ra = xp.asarray(a, bd.dtype), False
            elif type(a) in _CONSTANT_TYPES or isinstance(a, _CONSTANTS):
                ad, ra = a, False
            else:
                return NotImplemented
        elif isinstance(a, _CONSTANTS) and isinstance(b, _CONSTANTS):  # two constants
            ad, ra, bd, rb = a, False, b, False
        else:
            return NotImplemented
        try:
            out = forward(ad, bd)
        except (ValueError, TypeError) as exc:
            raise _forward_error(op, [ad, bd], exc) from None
        if type(out) is not _ndarray:
            out = xp.asarray(out)
        t = _new(Tensor)
        t.data = out
        t.grad = None
        t._extra = None
        t._seq = _next_seq()
        t._pending = None
        if (ra or rb) and _GRAD_ENABLED:
            t.requires_grad = True
            args = (a, b)
            if not rb:
                t._edges, needs = (a,), _FIRST
            elif ra:
                t._edges, needs = args, _BOTH
            else:
                t._edges, needs = (b,), _SECOND
            t._node = (op, args, (ad, bd), needs, _NO_PARAMS)
        else:
            t.requires_grad = False
            t._node = None
            t._edges = ()
        if _ACTIVE_LEVELS:
            _push_tangents(op, (a, b), _NO_PARAMS, t)
        return t

    method.__name__ = method.__qualname__ = op.name
    return method


_BINARY: dict[Op, Callable[[Any, Any], Any]] = {}


def apply2(op: Op, a: Any, b: Any) -> Tensor:
    """Run a two-input op as a function: ``binary_method`` with a TypeError for
    an operand that is neither a tensor nor a constant."""
    run = _BINARY.get(op)
    if run is None:
        run = _BINARY[op] = binary_method(op)
    result = run(a, b)
    if result is NotImplemented:
        bad = a if not isinstance(a, (Tensor, *_CONSTANTS)) else b
        raise operand_error(op.name, type(bad).__name__)
    return result  # type: ignore[no-any-return]




def _record(
    op: Op, args: tuple, arrays: tuple, needs: tuple, edges: tuple, params: Any, out: Any
) -> Tensor:
    """Wrap ``out`` as a Tensor; while recording, remember how it was made
    (``edges``: the inputs that need a gradient)."""
    if type(out) is not _ndarray:
        out = xp.asarray(out)
    t = _new(Tensor)
    t.data = out
    t.grad = None
    t._extra = None
    t._seq = _next_seq()
    t._pending = None
    if edges and _GRAD_ENABLED:
        t.requires_grad = True
        t._node = (op, args, arrays, needs, params)
        t._edges = edges
    else:
        t.requires_grad = False
        t._node = None
        t._edges = ()
    if _ACTIVE_LEVELS:
        _push_tangents(op, args, params, t)
    return t


def _forward_error(op: Op, arrays: Sequence[Any], exc: Exception) -> Exception:
    if isinstance(exc, ValueError):
        if op.describe is not None:
            return ShapeError(f"{op.name}: {op.describe(*arrays)}")
        shapes = ", ".join(str(xp.shape(a)) for a in arrays)
        return ShapeError(f"{op.name}: inputs of shapes {shapes} do not fit: {exc}")
    kinds = ", ".join(type(a).__name__ for a in arrays)
    return TypeError(f"{op.name}: cannot apply to inputs of type {kinds}: {exc}")


# --------------------------------------------------------------------------- forward mode
# Each running forward sweep (``jvp``) has a level. A tensor's tangent for a
# level is a Tensor that may itself carry tangents of outer (lower) levels, as
# nested dual numbers do; a tangent at level L is therefore computed with only
# the levels below L switched on, so the primals' own level->=L tangents are unseen.


def tangent_of(t: Any, level: int) -> Tensor | None:
    if not isinstance(t, Tensor) or not t._extra:
        return None
    tangents = t._extra.get("tangents")
    return tangents.get(level) if tangents else None


def set_tangent(t: Tensor, level: int, tangent: Tensor) -> None:
    t._extras().setdefault("tangents", {})[level] = tangent


def _levels_of(t: Any) -> list[int]:
    if not isinstance(t, Tensor) or not t._extra:
        return []
    tangents = t._extra.get("tangents")
    return [lv for lv in tangents if lv in _ACTIVE_LEVELS] if tangents else []


def _push_tangents(op: Op, args: tuple, params: Any, out: Tensor) -> None:
    levels = sorted({lv for a in args for lv in _levels_of(a)})
    if not levels:
        return
    from .ops import tensor_math

    active = _ACTIVE_LEVELS[:]
    try:
        for level in levels:
            tangents = tuple(tangent_of(a, level) for a in args)
            # Seen from this level, the tangents of this level and above do not
            # exist: the rule runs with only the outer (lower) levels switched on.
            _ACTIVE_LEVELS[:] = [lv for lv in active if lv < level]
            result = op.tangent(tensor_math, tangents, _alias(out), args, params)
            _ACTIVE_LEVELS[:] = active
            if result is None:
                continue
            if not isinstance(result, Tensor):
                result = _leaf(xp.asarray(result))
            set_tangent(out, level, result)
    finally:
        _ACTIVE_LEVELS[:] = active


def _alias(t: Tensor) -> Tensor:
    """``t`` for use inside its own tangent rule: while recording, a second node with
    the same history, so the tangent (kept on ``t``) never refers back to ``t``."""
    if t._node is None:
        return t
    a = Tensor.__new__(Tensor)
    a.data = t.data
    a.grad = None
    a.requires_grad = t.requires_grad
    a._node = t._node
    a._edges = t._edges
    a._seq = _next_seq()
    a._pending = None
    tangents = t._extra.get("tangents") if t._extra else None
    a._extra = {"tangents": dict(tangents)} if tangents else None
    return a


@contextlib.contextmanager
def forward_level() -> Iterator[int]:
    """Open a new forward-mode level for the duration of a ``jvp``."""
    level = next(_LEVEL_IDS)
    _ACTIVE_LEVELS.append(level)
    try:
        yield level
    finally:
        _ACTIVE_LEVELS.remove(level)


# --------------------------------------------------------------------------- reverse mode


class _Freed:
    """Stands in for the inputs of a node whose graph was freed: touching it explains."""

    def __iter__(self) -> Iterator[Any]:
        raise GraphError(
            "backward: part of this graph was freed by an earlier backward(); pass "
            "retain_graph=True to the first backward() to go through it again"
        )


_FREED: Any = _Freed()


_edges_of = attrgetter("_edges")


def backprop(
    root: Tensor,
    seed: Any,
    *,
    inputs: Sequence[Tensor] | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> list[Any] | None:
    """The reverse sweep: propagate ``seed`` (d root) back through the graph.

    With ``inputs=None`` gradients accumulate into the ``.grad`` of every leaf
    that requires grad. With ``inputs``, the sweep stops at those tensors,
    leaves every ``.grad`` alone and returns their gradients (``None`` where
    the root does not depend on one). ``seed`` may carry leading batch axes:
    then every gradient carries them too (one sweep, many cotangents).
    """
    stop = set(inputs) if inputs is not None else None
    useful: set | None = None
    if stop is None:
        order = toposort(root, _edges_of)
    else:

        def edges(t: Tensor) -> Any:
            return () if t in stop else t._edges

        order = toposort(root, edges)
        useful = set()  # only nodes on a path to an input need their rules run
        for t in order:
            if t in stop or any(p in useful for p in edges(t)):
                useful.add(t)

    m: Any
    if create_graph:
        from .ops import tensor_math as m

        seed = seed if isinstance(seed, Tensor) else _leaf(seed)
    else:
        m = backend
        seed = seed.data if isinstance(seed, Tensor) else seed
    grads: dict[Tensor, Any] = {root: seed}
    pop = grads.pop
    results: dict[Tensor, Any] = {}
    claimed: set[int] = {id(seed)}
    has_stop = stop is not None
    batched = seed.ndim != root.data.ndim  # extra leading axes on every gradient
    with enable_grad() if create_graph else no_grad():
        for node in reversed(order):
            g = pop(node, None)
            if g is None:
                continue
            extra = node._extra
            if extra:
                g = _run_hooks(node, g, create_graph)
            if has_stop and node in stop:  # type: ignore[operator]
                results[node] = g
                continue
            record = node._node
            if record is None:
                if not has_stop:
                    _accumulate(node, g, create_graph, claimed)
                    if extra:
                        _run_post_accumulate_hooks(node)
                continue
            op, parents, ins, needs, params = record
            if useful is not None:
                needs = tuple(n and p in useful for p, n in zip(parents, needs, strict=False))
            if create_graph:
                out, ins = node, parents
            else:
                out = node.data
            nb = g.ndim - node.data.ndim if batched else 0
            direct = op.plain and (not nb or op.batchable)
            if direct:  # call each input's rule right here
                items = op.vjps
            elif nb and not op.batchable:
                items = _vjp_slices(op, m, g, out, ins, params, needs, nb)
            else:
                items = op.vjp_all(m, g, out, ins, params, needs)
            for i, item in enumerate(items):  # type: ignore[arg-type]
                if not needs[i]:
                    continue
                p = parents[i]
                if not direct:
                    gp = item
                    if gp is None:
                        continue
                else:
                    gp = item(m, g, out, *ins, **params)
                if nb or not op.exact:
                    pd = p.data
                    if gp.shape[nb:] != pd.shape:  # the input was broadcast: sum back
                        gp = _unbroadcast(m, gp, nb, op, p)
                    if gp.dtype is not pd.dtype and gp.dtype != pd.dtype:
                        gp = gp.astype(pd.dtype)
                prev = grads.get(p)
                grads[p] = gp if prev is None else prev + gp
            if extra and extra.get("retain"):
                _store_retained(node, g, create_graph)
            if not retain_graph:
                node._edges = _FREED
                node._node = op.freed
    if inputs is None:
        return None
    return [
        xp.asarray(g) if g is not None and not create_graph and type(g) is not _ndarray else g
        for g in (results.get(t) for t in inputs)
    ]


def _sweep(root: Tensor, seed: Any, retain_graph: bool) -> None:
    """The first-order sweep ``backward()`` runs: NumPy gradients into the leaves' ``.grad``.

    Nodes come off a heap newest first, which hands out each node only after
    every consumer has passed it its gradient, so ordering the graph and
    sweeping it are one walk. A node's incoming gradients add up in its
    ``_pending`` slot while it waits; leaves wait in a list, as they have no
    rule to run. A node's buffers are freed as soon as its rule has run (unless
    ``retain_graph``), so activations go while the sweep goes; the leaves'
    ``.grad`` change only once every rule has run, so a backward refused
    halfway (a freed graph) leaves every ``.grad`` as it was.
    """
    global _GRAD_ENABLED
    m = backend
    root._pending = seed
    heap: list[tuple[int, Tensor]] = []
    leaves: list[Tensor] = []
    free = not retain_graph
    if root._node is None:
        leaves.append(root)
    else:
        heap.append((root._seq, root))
    recording, _GRAD_ENABLED = _GRAD_ENABLED, False  # a gate's backward may use tensor ops
    try:
        while heap:
            node = heappop(heap)[1]
            g = node._pending
            node._pending = None
            extra = node._extra
            if extra:
                g = _run_hooks(node, g, False)
                if extra.get("retain"):
                    _store_retained(node, g, False)
            op, parents, ins, needs, params = node._node  # type: ignore[misc]
            if parents is None:
                iter(_FREED)  # raises: this node's buffers went with an earlier backward
            out = node.data
            exact = op.exact  # one input; the rule returns its shape and dtype
            plain = op.plain
            pairs = op.rules_for.get(needs) if plain else None
            if pairs is None:  # a gate's vjp_all, or an op of many inputs
                plain = False
                pairs = enumerate(op.vjp_all(m, g, out, ins, params, needs))
            for i, rule in pairs:
                if not plain:
                    if rule is None or not needs[i]:
                        continue
                    gp = rule  # already computed by vjp_all
                elif params is not _NO_PARAMS:
                    gp = rule(m, g, out, *ins, **params)
                elif exact:
                    gp = rule(m, g, out, ins[0])
                elif len(ins) == 2:
                    gp = rule(m, g, out, ins[0], ins[1])
                else:
                    gp = rule(m, g, out, *ins)
                p = parents[i]
                if not exact:
                    pd = p.data
                    if gp.shape != pd.shape:  # the input was broadcast: sum back to its shape
                        gp = _unbroadcast(m, gp, 0, op, p)
                    if gp.dtype is not pd.dtype and gp.dtype != pd.dtype:
                        gp = gp.astype(pd.dtype)
                prev = p._pending
                if prev is not None:
                    p._pending = prev + gp
                else:  # the first gradient to reach p: it joins the sweep
                    p._pending = gp
                    if p._node is None:
                        leaves.append(p)
                    else:
                        heappush(heap, (p._seq, p))
            if free:
                node._edges = _FREED
                node._node = op.freed
    except BaseException:
        for t in itertools.chain((t for _, t in heap), leaves):  # forget what was waiting
            t._pending = None
        raise
    finally:
        _GRAD_ENABLED = recording
    claimed = {id(seed)}
    try:
        for leaf in leaves:
            g = leaf._pending
            leaf._pending = None
            extra = leaf._extra
            if extra:
                g = _run_hooks(leaf, g, False)
            _accumulate(leaf, g, False, claimed)
            if extra:
                _run_post_accumulate_hooks(leaf)
    except BaseException:
        for leaf in leaves:  # should a hook raise, nothing is left waiting
            leaf._pending = None
        raise


def _unbroadcast(m: Any, gp: Any, nb: int, op: Op, p: Tensor) -> Any:
    try:
        return m.sum_to(gp, p.data.shape, nb)
    except ValueError:
        raise ShapeError(
            f"{op.name}: the gradient rule returned shape {gp.shape}, which does not reduce "
            f"to the input's shape {p.shape}"
        ) from None


def _vjp_slices(
    op: Op, m: Any, g: Any, out: Any, ins: tuple, params: Any, needed: list, nb: int
) -> list[Any]:
    """Run a rule that knows no batch axes once per cotangent, then stack the results."""
    flat = m.reshape(g, (-1,) + g.shape[nb:])
    rows = [op.vjp_all(m, flat[k], out, ins, params, needed) for k in range(flat.shape[0])]
    stacked: list[Any] = []
    for i, need in enumerate(needed):
        if not need or rows[0][i] is None:
            stacked.append(None)
            continue
        parts = [m.reshape(r[i], (1,) + tuple(r[i].shape)) for r in rows]
        full = m.concatenate(parts, 0)
        stacked.append(m.reshape(full, g.shape[:nb] + tuple(full.shape[1:])))
    return stacked


def _run_hooks(node: Tensor, g: Any, create_graph: bool) -> Any:
    for hook in (node._extra or {}).get("hooks", ()):
        gt = g if isinstance(g, Tensor) else _leaf(g)
        new = hook(gt)
        if new is not None:
            new_data = new.data if isinstance(new, Tensor) else xp.asarray(new)
            if new_data.shape != gt.shape:
                raise ShapeError(
                    f"hook: returned a gradient of shape {new_data.shape}, expected {gt.shape}"
                )
            g = new if create_graph and isinstance(new, Tensor) else new_data
            if create_graph and not isinstance(g, Tensor):
                g = _leaf(g)
    return g


def _run_post_accumulate_hooks(leaf: Tensor) -> None:
    for hook in tuple((leaf._extra or {}).get("post_accumulate_hooks", ())):
        hook(leaf)


def _accumulate(leaf: Tensor, g: Any, create_graph: bool, claimed: set[int]) -> None:
    """Add ``g`` into a leaf's ``.grad`` (copying any array another tensor may share)."""
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
        return
    current = leaf.grad
    if type(g) is not _ndarray:  # NumPy gives 0-d results as scalars
        g = xp.asarray(g)
    if current is None:
        if id(g) in claimed or g.base is not None or not g.flags.writeable:
            g = g.copy()
        claimed.add(id(g))
        leaf.grad = _leaf(g)
    elif current._node is None and current.data.shape == g.shape and current.data.flags.writeable:
        current.data += g
    else:
        leaf.grad = _leaf(current.data + g)


def _store_retained(node: Tensor, g: Any, create_graph: bool) -> None:
    gt = g if isinstance(g, Tensor) else _leaf(xp.array(g))
    node.grad = gt if node.grad is None else node.grad + gt  # type: ignore[operator]
