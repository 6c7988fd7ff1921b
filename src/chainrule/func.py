"""Function transforms, JAX / ``torch.func`` style, built on two primitives:
the reverse sweep (vector-Jacobian products) and the forward sweep
(Jacobian-vector products). They compose to any depth: a transform called
inside another records its own derivative so the outer one can go through it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from .backend import xp
from .engine import Tensor, enable_grad, mode
from .engine.forward import set_tangent, tangent_of
from .engine.record import apply
from .engine.record import leaf as _leaf
from .engine.sweep import sweep
from .errors import ShapeError
from .graph import reaches
from .ops.shape import identity

_STATE = mode.local  # per thread: .depth, how many transforms are running (inner ones
# must record their derivatives so the outer ones can go through them)


def _backprop(out: Tensor, seed: Any, inputs: list[Tensor], nested: bool,
              retain: bool | None = None) -> list[Any]:
    """The gradients of ``out`` (seeded with ``seed``) with respect to ``inputs``:
    the reverse sweep stopping at them; recorded when ``nested``."""
    if nested and not isinstance(seed, Tensor):
        seed = _leaf(seed)
    elif not nested and isinstance(seed, Tensor):
        seed = seed.data
    return sweep(out, seed, _leaf, inputs=inputs, retain_graph=nested if retain is None else retain,
                 create_graph=nested) or [None] * len(inputs)

Argnums = int | Sequence[int]


def _argnums(argnums: Argnums, nargs: int, where: str) -> tuple[int, ...]:
    if isinstance(argnums, (tuple, list)):
        items = tuple(argnums)
    elif isinstance(argnums, int) and not isinstance(argnums, bool):
        items = (argnums,)
    else:
        items = ()
    if not items or not all(isinstance(a, int) and not isinstance(a, bool) for a in items):
        raise TypeError(f"{where}: argnums must be an int or a tuple of ints, got {argnums!r}")
    norm = []
    for a in items:
        if not -nargs <= a < nargs:
            raise ValueError(
                f"{where}: argnums={argnums!r} but the function was called with {nargs} "
                f"positional argument(s)"
            )
        norm.append(a % nargs)
    if len(set(norm)) != len(norm):
        raise ValueError(f"{where}: argnums={argnums!r} names an argument twice")
    return tuple(norm)


def _as_input(x: Any, where: str, i: int) -> Tensor:
    """A fresh graph input standing for ``x`` (connected to ``x``'s own history, if any)."""
    if isinstance(x, Tensor):
        if x.dtype.kind != "f":
            raise TypeError(
                f"{where}: argument {i} has dtype {x.dtype}; differentiate with respect to "
                "floating-point inputs"
            )
        if x.requires_grad or x._extra:
            with enable_grad():
                t = apply(identity, x)
            t._requires_grad = True
        else:
            t = _leaf(x.data, requires_grad=True)
        t._extras()["transform_input"] = True
        return t
    arr = xp.asarray(x)
    if arr.dtype.kind not in "f":
        if arr.dtype.kind in "iub":
            raise TypeError(
                f"{where}: argument {i} has dtype {arr.dtype}; differentiate with respect to "
                "floating-point inputs (e.g. pass 2.0, not 2)"
            )
        raise TypeError(f"{where}: argument {i} is a {type(x).__name__}, not an array or tensor")
    t = _leaf(arr, requires_grad=True)
    t._extras()["transform_input"] = True
    return t


def _nested(args: Sequence[Any]) -> bool:
    """Must this transform record its derivative (because something will differentiate it)?"""
    return _STATE.depth > 1 or bool(mode.levels()) or any(
        isinstance(a, Tensor) and a.requires_grad for a in args
    )


def _reaches_outside(out: Tensor | None, inputs: Sequence[Tensor]) -> bool:
    """Does ``out`` depend on a tensor that requires grad other than ``inputs`` and
    the inputs of (inner) transforms, say a weight ``f`` closes over? Then its
    derivative must be recorded too."""
    if out is None or not out.requires_grad:
        return False
    stop = set(inputs)
    return reaches(
        out,
        lambda t: () if t in stop else t._edges,
        lambda t: t._node is None and t not in stop
        and not (t._extra and "transform_input" in t._extra),
    )


def _records(args: Sequence[Any], out: Tensor, inputs: Sequence[Tensor]) -> bool:
    return _nested(args) or _reaches_outside(out, inputs)


def _call(f: Callable[..., Any], args: list[Any], where: str, many: bool = False) -> Any:
    with enable_grad():
        out = f(*args)
    if many and isinstance(out, tuple):
        return tuple(_as_output(o, where) for o in out)
    return _as_output(out, where)


def _as_output(out: Any, where: str) -> Tensor:
    if not isinstance(out, Tensor):
        if isinstance(out, (int, float)) or hasattr(out, "shape"):
            return _leaf(xp.asarray(out))
        raise TypeError(f"{where}: the function must return a Tensor, got {type(out).__name__}")
    return out


def _zeros_for(x: Tensor, lead: tuple[int, ...] = ()) -> Tensor:
    return _leaf(xp.zeros(lead + x.shape, dtype=x.dtype))


def _transform(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def run(*a: Any, **k: Any) -> Any:
        _STATE.depth += 1
        try:
            return fn(*a, **k)
        finally:
            _STATE.depth -= 1

    return run


def _pack(results: list[Any], argnums: Argnums) -> Any:
    return results[0] if isinstance(argnums, int) else tuple(results)


# ---------------------------------------------------------------- reverse mode
def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """``f``'s value and its gradient with respect to the ``argnums`` arguments.

    ``f`` must return a scalar. The gradient has the shape of its argument
    (a tuple of them when ``argnums`` is a tuple).
    """

    @_transform
    def wrapped(*args: Any) -> tuple[Tensor, Any]:
        nums = _argnums(argnums, len(args), "grad")
        call = list(args)
        for i in nums:
            call[i] = _as_input(args[i], "grad", i)
        out = _call(f, call, "grad")
        if out.numel() != 1:
            raise ShapeError(
                f"grad: the function must return a scalar, but returned shape {out.shape}; "
                "use cr.jacrev / cr.jacfwd for a Jacobian, or cr.vjp with a cotangent"
            )
        inputs = [call[i] for i in nums]
        nested = _records(args, out, inputs)
        grads: list[Any] = [None] * len(nums)
        if out.requires_grad:
            grads = _backprop(out, xp.ones_like(out.data), inputs, nested)
        result = [
            _wrap(g) if g is not None else _zeros_for(x)
            for g, x in zip(grads, inputs, strict=True)
        ]
        value = out if nested else out.detach()
        return value, _pack(result, argnums)

    return wrapped


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The gradient of scalar-valued ``f`` with respect to argument(s) ``argnums``.

    >>> cr.grad(lambda x: (x ** 3).sum())(cr.tensor([2.0]))
    tensor([12.])
    """
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        return vg(*args)[1]

    return wrapped


def _wrap(g: Any) -> Tensor:
    return g if isinstance(g, Tensor) else _leaf(xp.asarray(g))


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Tensor, Callable[..., tuple]]:
    """``f(*primals)`` and a function mapping a cotangent ``v`` (shaped like the output)
    to ``v · J`` for each primal: one reverse sweep per call, no Jacobian formed."""
    _STATE.depth += 1
    try:
        call = [_as_input(p, "vjp", i) for i, p in enumerate(primals)]
        out = _call(f, call, "vjp")
        nested = _records(primals, out, call)
    finally:
        _STATE.depth -= 1

    def vjp_fn(cotangent: Any) -> tuple[Tensor, ...]:
        v = cotangent.data if isinstance(cotangent, Tensor) and not nested else cotangent
        shape = v.shape if hasattr(v, "shape") else xp.shape(v)
        if tuple(shape) != out.shape:
            raise ShapeError(
                f"vjp: the cotangent has shape {tuple(shape)} but the output has shape "
                f"{out.shape}; they must match"
            )
        if not out.requires_grad:
            return tuple(_zeros_for(x) for x in call)
        seed = v if isinstance(v, Tensor) else xp.asarray(v, dtype=out.dtype)
        grads = _backprop(out, seed, call, nested, retain=True)
        return tuple(_wrap(g) if g is not None else _zeros_for(x)
                     for g, x in zip(grads, call, strict=False))

    return (out if nested else out.detach()), vjp_fn


@_transform
def _jacrev_at(f: Callable[..., Any], argnums: Argnums, args: tuple) -> Any:
    nums = _argnums(argnums, len(args), "jacrev")
    call = list(args)
    for i in nums:
        call[i] = _as_input(args[i], "jacrev", i)
    out = _call(f, call, "jacrev")
    inputs = [call[i] for i in nums]
    nested = _records(args, out, inputs)
    n = out.numel()
    results = []
    if out.requires_grad:
        seed = xp.eye(n, dtype=out.dtype).reshape((n,) + out.shape)  # every row at once
        grads = _backprop(out, seed, inputs, nested)
    else:
        grads = [None] * len(inputs)
    for g, x in zip(grads, inputs, strict=False):
        g = _wrap(g) if g is not None else _zeros_for(x, (n,))
        results.append(g.reshape(out.shape + x.shape))
    return _pack(results, argnums)


def jacrev(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The Jacobian of ``f`` by reverse mode, shape ``out.shape + in.shape``.

    All rows are computed in one reverse sweep (the cotangents are stacked
    along a leading batch axis), not one sweep per output element.
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        return _jacrev_at(f, argnums, args)

    return wrapped


# ---------------------------------------------------------------- forward mode
def _with_tangents(args: Sequence[Any], nums: Sequence[int], tangents: Sequence[Any],
                   level: int, where: str) -> list[Any]:
    call = list(args)
    for i, t in zip(nums, tangents, strict=False):
        x = _as_input(args[i], where, i)
        x._requires_grad = isinstance(args[i], Tensor) and args[i].requires_grad
        td = t if isinstance(t, Tensor) else _leaf(xp.asarray(t, dtype=x.dtype))
        if td.dtype != x.dtype:
            td = td.astype(x.dtype)
        set_tangent(x, level, td)
        call[i] = x
    return call


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
        ) -> tuple[Tensor, Tensor]:
    """``f(*primals)`` and the Jacobian-vector product ``J · tangents``, in one forward
    sweep that carries the tangents along (no backward pass)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (one entry per argument)")
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s); give one each"
        )
    for i, (p, t) in enumerate(zip(primals, tangents, strict=False)):
        ps, ts = xp.shape(p.data if isinstance(p, Tensor) else p), xp.shape(
            t.data if isinstance(t, Tensor) else t)
        if ps != ts:
            raise ShapeError(
                f"jvp: tangent {i} has shape {ts} but its primal has shape {ps}; they must match"
            )
    _STATE.depth += 1
    try:
        with mode.forward_level() as level:
            call = _with_tangents(primals, range(len(primals)), tangents, level, "jvp")
            out = _call(f, call, "jvp")
            t_out = tangent_of(out, level)
        if t_out is None:
            t_out = _zeros_for(out)
        nested = (_nested(primals) or _reaches_outside(out, call)
                  or _reaches_outside(t_out, call))
    finally:
        _STATE.depth -= 1
    if not nested:
        return out.detach(), t_out.detach()
    return out, t_out


@_transform
def _jacfwd_at(f: Callable[..., Any], argnums: Argnums, args: tuple) -> Any:
    nums = _argnums(argnums, len(args), "jacfwd")
    shapes = []
    for i in nums:
        x = args[i]
        shapes.append(tuple(xp.shape(x.data if isinstance(x, Tensor) else x)))
    sizes = [int(xp.prod(s, dtype=int)) for s in shapes]
    total = sum(sizes)
    basis: list[Tensor] = []  # one sweep: tangent k is the k-th unit vector of all inputs
    start = 0
    for i, s, n in zip(nums, shapes, sizes, strict=True):
        dtype = xp.asarray(args[i].data if isinstance(args[i], Tensor) else args[i]).dtype
        block = xp.zeros((total, n), dtype=dtype if dtype.kind == "f" else xp.float64)
        block[start : start + n] = xp.eye(n, dtype=block.dtype)
        basis.append(_leaf(block.reshape((total,) + s)))
        start += n
    with mode.forward_level() as level:
        call = _with_tangents(args, nums, basis, level, "jacfwd")
        out = _call(f, call, "jacfwd", many=True)
        outs = out if isinstance(out, tuple) else (out,)
        t_outs = [tangent_of(o, level) for o in outs]
    inputs = [call[i] for i in nums]
    nested = _nested(args) or any(
        _reaches_outside(o, inputs) or _reaches_outside(t, inputs)
        for o, t in zip(outs, t_outs, strict=True)
    )
    jacobians = []
    for o, t in zip(outs, t_outs, strict=False):
        if t is None:
            t = _leaf(xp.zeros((total,) + o.shape, dtype=o.dtype))
        # t is (inputs, outputs...): put the output axes first, then split by input
        jac = t.reshape(total, o.numel()).T
        blocks, start = [], 0
        for s, n in zip(shapes, sizes, strict=False):
            piece = jac[:, start : start + n].reshape(o.shape + s)
            blocks.append(piece if nested else piece.detach())
            start += n
        jacobians.append(_pack(blocks, argnums))
    return tuple(jacobians) if isinstance(out, tuple) else jacobians[0]


def jacfwd(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The Jacobian of ``f`` by forward mode, shape ``out.shape + in.shape``.

    All columns are computed in one forward sweep (the unit tangents are
    stacked along a leading batch axis), not one sweep per input element.
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        return _jacfwd_at(f, argnums, args)

    return wrapped


def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The Hessian of scalar ``f``: forward mode over reverse mode, ``jacfwd(jacrev(f))``.

    With a tuple ``argnums`` the result is nested: ``H[i][j]`` is the block of
    second derivatives with respect to arguments ``argnums[i]`` and ``argnums[j]``.
    """
    return jacfwd(jacrev(f, argnums), argnums)


__all__ = ["grad", "hessian", "jacfwd", "jacrev", "jvp", "value_and_grad", "vjp"]
