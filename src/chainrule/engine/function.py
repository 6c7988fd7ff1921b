"""User-defined gates: ``cr.Function``.

A gate has a ``forward`` that computes its output and caches what its
``backward`` will need (``ctx.save_for_backward``), a ``backward`` that turns
the gradient of its output into one gradient per input, and optionally a
``jvp`` for forward mode. It knows nothing of the circuit around it.

    class Cube(cr.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 3 * x ** 2

    y = Cube.apply(x)

``forward`` runs without recording (it may use any tensor op); ``backward``
gets and returns Tensors and is recorded when ``create_graph=True``, so a
gate written with tensor ops can be differentiated again.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .. import backend
from ..backend import xp
from ..errors import GraphError, ShapeError
from ..ops.op import Op
from .mode import no_grad, set_grad_enabled
from .record import apply
from .record import leaf as _leaf
from .tensor import Tensor


class Context:
    """What a gate's forward leaves for its backward."""

    def __init__(self) -> None:
        self.needs_input_grad: tuple[bool, ...] = ()
        self._saved: tuple[Any, ...] = ()
        self._current_output: Tensor | None = None

    def save_for_backward(self, *tensors: Any) -> None:
        """Cache tensors (inputs, outputs or intermediates) for ``backward``."""
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        if self._saved is None:
            raise GraphError(
                "saved_tensors: this gate's buffers were freed by an earlier backward(); "
                "pass retain_graph=True to go through it twice"
            )
        return tuple(self._current_output if s is _OUTPUT else s for s in self._saved)


_OUTPUT = object()  # stands for the gate's own output among the saved tensors


def _gate_forward(*arrays: Any, _ctx: Context, _out: Any) -> Any:
    return _out


def _no_rule(*args: Any, **kw: Any) -> Any:  # pragma: no cover - vjp_all is overridden
    raise NotImplementedError


class FunctionOp(Op):
    """Adapts a ``Function`` subclass to the engine's op record."""

    def __init__(self, fn: type[Function]) -> None:
        # The gate's forward has already run when ``apply`` records it, so the
        # op's forward only hands the result over; its parameters hold the context.
        super().__init__(fn.__name__, _gate_forward, _no_rule, batchable=False)
        self.fn = fn

    def vjp_all(self, m: Any, g: Any, out: Any, inputs: tuple, params: Any,
                needed: Any) -> list[Any]:
        ctx: Context = params["_ctx"]
        recorded = isinstance(out, Tensor)  # create_graph: out is the node itself
        ctx._current_output = out if recorded else _leaf(out)
        try:
            with set_grad_enabled(recorded):  # the gate's tensor ops record only then
                grads = self.fn.backward(ctx, g if isinstance(g, Tensor) else _leaf(g))
        finally:
            ctx._current_output = None
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(inputs):
            raise TypeError(
                f"{self.name}.backward returned {len(grads)} gradient(s) for "
                f"{len(inputs)} input(s); return one per input (None where there is none)"
            )
        result: list[Any] = []
        for i, (gi, need) in enumerate(zip(grads, needed, strict=True)):
            if gi is None or not need:
                result.append(None)
                continue
            arr = gi.data if isinstance(gi, Tensor) else backend.array_of(gi)
            shape = xp.shape(inputs[i].data if isinstance(inputs[i], Tensor) else inputs[i])
            try:
                xp.broadcast_shapes(arr.shape, shape)
            except ValueError:
                raise ShapeError(
                    f"{self.name}.backward: gradient {i} has shape {arr.shape} but input {i} "
                    f"has shape {shape}"
                ) from None
            if isinstance(out, Tensor):  # recording: keep the tensor (and its graph)
                result.append(gi if isinstance(gi, Tensor) else _leaf(arr))
            else:
                result.append(arr)
        return result

    def release(self, params: Any) -> None:
        """Drop what the gate saved for its backward (after a backward without retain_graph)."""
        params["_ctx"]._saved = None

    def tangent(self, m: Any, tangents: tuple, out: Any, inputs: tuple, params: Any) -> Any:
        ctx: Context = params["_ctx"]
        if self.fn.jvp is Function.jvp:
            raise NotImplementedError(
                f"{self.name} has no forward-mode rule: define a staticmethod "
                f"jvp(ctx, *tangents) on it to use it under cr.jvp / cr.jacfwd"
            )
        ts = [
            t if t is not None else _leaf(xp.zeros_like(x.data if isinstance(x, Tensor) else x))
            for t, x in zip(tangents, inputs, strict=False)
        ]
        ctx._current_output = out if isinstance(out, Tensor) else _leaf(out)
        try:
            return self.fn.jvp(ctx, *ts)
        finally:
            ctx._current_output = None


class Function:
    """Base class of a user-defined differentiable operation (a "gate")."""

    _op: ClassVar[FunctionOp | None] = None

    @staticmethod
    def forward(ctx: Context, *args: Any) -> Any:
        raise NotImplementedError("a Function subclass must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: Context, *grad_outputs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, grad_out)")

    @staticmethod
    def jvp(ctx: Context, *tangents: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        """Run the gate on ``args`` and record it so gradients flow through it."""
        op = cls.__dict__.get("_op")
        if op is None:
            op = FunctionOp(cls)
            cls._op = op
        for a in args:
            if not isinstance(a, Tensor) and hasattr(a, "grad") and hasattr(a, "data"):
                raise TypeError(
                    f"{cls.__name__}.apply: got a {type(a).__name__}, but a Function works on "
                    "Tensors; wrap the number with cr.tensor(v.data), or for the scalar "
                    "engine use Value's own operations"
                )
        ctx = Context()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with no_grad():
            raw = cls.forward(ctx, *args)
        if isinstance(raw, (tuple, list)):
            raise TypeError(
                f"{cls.__name__}.forward returned {len(raw)} values; a gate returns one tensor"
            )
        out_data = raw.data if isinstance(raw, Tensor) else backend.array_of(raw)
        if out_data.dtype.kind not in "biufc":
            raise TypeError(
                f"{cls.__name__}.forward returned {type(raw).__name__} (dtype "
                f"{out_data.dtype}); it must return a Tensor or a numeric array"
            )
        ctx._saved = tuple(_OUTPUT if s is raw and isinstance(raw, Tensor) else s
                           for s in ctx._saved)
        return apply(op, *args, _ctx=ctx, _out=out_data)


__all__ = ["Context", "Function"]
