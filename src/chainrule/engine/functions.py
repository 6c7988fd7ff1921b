"""The top-level functions on tensors: ``cr.exp(x)``, ``cr.sum(x, axis)``, ``cr.stack(...)``.

Most are a Tensor method taken as a function (``cr.sum(x)`` is ``x.sum()``),
where ``x`` may also be a number or an ndarray; the rest take several tensors.
``chainrule.ops.REGISTRY`` names which function runs which op.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Sequence
from typing import Any

from .. import backend
from ..backend import xp
from ..ops import REGISTRY, conv, elementwise, shape
from ..ops._util import raw
from .record import apply, as_tensor, operand_error
from .tensor import Tensor


def _on_tensor(method: Callable[..., Any]) -> Callable[..., Any]:
    """The function ``cr.<name>(x, ...)`` of the method ``x.<name>(...)``."""
    name = method.__name__

    @functools.wraps(method)
    def function(x: Any, *args: Any, **kwargs: Any) -> Any:
        return method(as_tensor(x, name), *args, **kwargs)

    return function


# elementwise: the unary methods take numbers and arrays too, so they are the functions
exp, log, log1p, sqrt, tanh = Tensor.exp, Tensor.log, Tensor.log1p, Tensor.sqrt, Tensor.tanh
sigmoid, relu, abs, sin, cos, erf = (Tensor.sigmoid, Tensor.relu, Tensor.abs, Tensor.sin,
                                     Tensor.cos, Tensor.erf)
maximum, minimum, matmul = Tensor.maximum, Tensor.minimum, Tensor.matmul
clip = _on_tensor(Tensor.clip)

# reductions
sum = _on_tensor(Tensor.sum)
mean = _on_tensor(Tensor.mean)
max = _on_tensor(Tensor.max)
min = _on_tensor(Tensor.min)
prod = _on_tensor(Tensor.prod)
var = _on_tensor(Tensor.var)
std = _on_tensor(Tensor.std)
logsumexp = _on_tensor(Tensor.logsumexp)
softmax = _on_tensor(Tensor.softmax)
log_softmax = _on_tensor(Tensor.log_softmax)
argmax = _on_tensor(Tensor.argmax)
argmin = _on_tensor(Tensor.argmin)

# shape
reshape = _on_tensor(Tensor.reshape)
permute = _on_tensor(Tensor.permute)
transpose = _on_tensor(Tensor.transpose)
broadcast_to = _on_tensor(Tensor.broadcast_to)
expand = _on_tensor(Tensor.expand)
squeeze = _on_tensor(Tensor.squeeze)
unsqueeze = _on_tensor(Tensor.unsqueeze)
flatten = _on_tensor(Tensor.flatten)
pad = _on_tensor(Tensor.pad)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` is true, else ``b`` (broadcasting); differentiable in a and b."""
    for v, n in ((a, "a"), (b, "b")):
        if not isinstance(v, (Tensor, int, float, xp.ndarray, xp.generic)):
            raise operand_error(f"where ({n})", type(v).__name__)
    c = backend.array_of(raw(cond))
    if c.dtype != bool:
        raise TypeError(f"where: cond must be boolean, got dtype {c.dtype}")
    return apply(elementwise.where, c, a, b)  # type: ignore[no-any-return]


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    parts = [as_tensor(t, "concatenate") for t in tensors]
    ax = shape.concat_axis([p.shape for p in parts], axis)
    return apply(shape.concatenate, *parts, axis=ax)  # type: ignore[no-any-return]


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    parts = [as_tensor(t, "stack") for t in tensors]
    axis = shape.stack_axis([p.shape for p in parts], axis)
    return concatenate([p.unsqueeze(axis) for p in parts], axis)


def split(x: Any, sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split into ``sections`` equal parts, or at the given indices (like ``numpy.split``)."""
    x = as_tensor(x, "split")
    bounds = shape.split_bounds(x.shape, sections, axis)
    pre = (slice(None),) * (axis % x.ndim)
    return [x[pre + (slice(a, b),)] for a, b in builtins.zip(bounds[:-1], bounds[1:], strict=True)]


def unfold2d(x: Any, kernel_size: Any, stride: Any = 1, padding: Any = 0) -> Tensor:
    """Every ``kernel_size`` window of ``x`` (N, C, H, W) as a column: (N, C·kh·kw, L).

    The layout matches ``torch.nn.functional.unfold``; with it a convolution is
    ``weight.reshape(out, -1) @ unfold2d(x, k)``.
    """
    x = as_tensor(x, "unfold2d")
    k, s, p = conv.unfold_params(x.shape, kernel_size, stride, padding)
    return apply(conv.unfold2d, x, kernel=k, stride=s, padding=p)  # type: ignore[no-any-return]


def fold2d(cols: Any, output_size: Any, kernel_size: Any, stride: Any = 1,
           padding: Any = 0) -> Tensor:
    """The adjoint of ``unfold2d``: add columns (N, C·kh·kw, L) back into (N, C, H, W)."""
    cols = as_tensor(cols, "fold2d")
    size, k, s, p = conv.fold_params(cols.shape, output_size, kernel_size, stride, padding)
    return apply(conv.fold2d, cols, size=size, kernel=k, stride=s,  # type: ignore[no-any-return]
                 padding=p)


def _document() -> None:
    """Each function's docstring ends with its formula from the registry."""
    for info in REGISTRY.values():
        fn = globals().get(info.function or "")
        if fn is not None and info.formula not in (fn.__doc__ or ""):
            fn.__doc__ = f"{fn.__doc__ or ''}\n\n{info.formula}".strip()


_document()
