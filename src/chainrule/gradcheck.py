"""Numerical gradient checking: compare the engine's derivatives with
central differences, (f(x + ε) - f(x - ε)) / 2ε, computed in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import backend
from .backend import xp
from .engine import Tensor, enable_grad, no_grad
from .engine.functions import concatenate
from .engine.record import leaf as _leaf
from .engine.sweep import sweep
from .errors import GradcheckError


def _inputs(inputs: Any) -> tuple[Any, ...]:
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


def _as_float64(inputs: tuple[Any, ...]) -> tuple[list[Any], list[int]]:
    """float64 leaf copies of the floating-point inputs, and their positions."""
    xs: list[Any] = []
    diff: list[int] = []
    for i, x in enumerate(inputs):
        arr = x.data if isinstance(x, Tensor) else x
        if isinstance(x, Tensor) and x.requires_grad or (
            not isinstance(x, Tensor) and backend.array_of(arr).dtype.kind == "f"
        ):  # a float64 copy, on the input's device
            xs.append(_leaf(backend.array_of(arr).astype(xp.float64), requires_grad=True))
            diff.append(i)
        else:
            xs.append(x)
    return xs, diff


def _output(f: Callable[..., Any], xs: Sequence[Any], where: str) -> Tensor:
    out = f(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"{where}: the function must return a Tensor, got {type(out).__name__}")
    return out


def numerical_jacobian(
    f: Callable[..., Any], inputs: Sequence[Any], i: int, eps: float = 1e-6
) -> Any:
    """d f / d inputs[i] by central differences, shape ``(out.size, inputs[i].size)``."""
    xs = list(inputs)
    x = xs[i]
    flat = x.data.reshape(-1)
    cols = []
    with no_grad():
        for j in range(flat.size):
            keep = flat[j]
            flat[j] = keep + eps
            plus = backend.to_host(f(*xs).data).astype(xp.float64).reshape(-1)
            flat[j] = keep - eps
            minus = backend.to_host(f(*xs).data).astype(xp.float64).reshape(-1)
            flat[j] = keep
            cols.append((plus - minus) / (2 * eps))
    if not cols:
        return xp.zeros((0, 0))
    return xp.stack(cols, axis=1)


def analytic_jacobian(out: Tensor, xs: Sequence[Tensor], create_graph: bool = False) -> list[Any]:
    """d out / d x for each x, by reverse mode with all output cotangents in one sweep."""
    n = out.numel()
    if not out.requires_grad:
        return [xp.zeros((n, x.numel())) for x in xs]
    seed = backend.eye_of(n, out.dtype, out.data).reshape((n,) + out.shape)
    if create_graph:
        seed = _leaf(seed)
    grads = sweep(out, seed, _leaf, inputs=list(xs), retain_graph=True,
                  create_graph=create_graph) or [None] * len(xs)
    return [
        xp.zeros((n, x.numel())) if g is None else backend.to_host(
            g.data if isinstance(g, Tensor) else g).reshape(n, x.numel())
        for g, x in zip(grads, xs, strict=True)
    ]


def gradcheck(
    f: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check every first derivative of ``f`` at ``inputs`` against central differences.

    ``inputs`` is a Tensor or a tuple of them (floating-point ndarrays count
    too); each differentiable one is copied to float64. Returns ``True``, or
    raises ``cr.GradcheckError`` naming the input, the element, and the
    analytic and numerical values.
    """
    xs, diff = _as_float64(_inputs(inputs))
    if not diff:
        raise ValueError(
            "gradcheck: no input to check: mark the inputs to differentiate with "
            "requires_grad=True (or pass floating-point ndarrays)"
        )
    out = _output(f, xs, "gradcheck")
    if out.dtype.kind != "f":
        raise TypeError(f"gradcheck: the function's output has dtype {out.dtype}, not float")
    analytic = analytic_jacobian(out, [xs[i] for i in diff])
    for k, i in enumerate(diff):
        numeric = numerical_jacobian(f, xs, i, eps)
        _compare(analytic[k], numeric, i, out.shape, xs[i].shape, atol, rtol, "gradcheck")
    return True


def _compare(a: Any, n: Any, i: int, out_shape: tuple, in_shape: tuple, atol: float,
             rtol: float, where: str) -> None:
    bad = ~(xp.abs(a - n) <= atol + rtol * xp.abs(n))
    if not bad.any():
        return
    r, c = (int(v[0]) for v in xp.nonzero(bad))
    oi = xp.unravel_index(r, out_shape) if out_shape else ()
    ii = xp.unravel_index(c, in_shape) if in_shape else ()
    raise GradcheckError(
        f"{where}: d output{list(map(int, oi))} / d input {i}{list(map(int, ii))}: "
        f"analytic {a[r, c]:.8g} but numerical {n[r, c]:.8g} "
        f"(|difference| {abs(a[r, c] - n[r, c]):.3g} > atol {atol} + rtol {rtol} * "
        f"|numerical|; {int(bad.sum())} of {bad.size} entries disagree)"
    )


def gradgradcheck(
    f: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check second derivatives: differentiate a vector-Jacobian product of ``f``
    (with a fixed random cotangent) and compare it with central differences."""
    xs, diff = _as_float64(_inputs(inputs))
    out = _output(f, xs, "gradgradcheck")
    v = xp.random.default_rng(seed).standard_normal(out.shape)
    v = backend.to_device(v, backend.device_of(out.data))  # the cotangent beside the output

    def first_derivative(*args: Any) -> Tensor:
        with enable_grad():
            return _first_derivative(*args)

    def _first_derivative(*args: Any) -> Tensor:
        o = f(*args)
        targets = [args[i] for i in diff]
        if not o.requires_grad:
            return _leaf(backend.zeros_of(sum(t.numel() for t in targets), o.dtype, o.data))
        gs = sweep(o, _leaf(v), _leaf, inputs=targets, retain_graph=True, create_graph=True)
        parts = [
            g.reshape(-1) if g is not None else _leaf(backend.zeros_of(t.numel(), o.dtype, o.data))
            for g, t in zip(gs or [], targets, strict=True)
        ]
        return concatenate(parts, 0)

    return gradcheck(first_derivative, tuple(xs), eps, atol, rtol)
