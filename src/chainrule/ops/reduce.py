"""Reductions. ``axes`` are stored counted from the end, so a rule still finds
them when the gradient carries extra leading (batch) axes."""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..backend import xp
from ..tensor import Op, Tensor, apply
from ._util import lead, norm_axes, operand, raw


def _expand(m: Any, g: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """Put the reduced axes back (as size 1) so ``g`` lines up with the input
    (a 0-d ``g``, from a full reduction, already does)."""
    return g if keepdims or not g.ndim else m.expand_dims(g, axes)


# sum: every input element feeds the sum with slope 1, so g is copied back out.
sum_op = Op(
    "sum",
    lambda x, axes, keepdims: backend.sum(x, axes, keepdims),
    (lambda m, g, y, x, axes, keepdims: m.broadcast_to(
        _expand(m, g, axes, keepdims), lead(g, y) + x.shape),),
    lambda m, t, y, x, axes, keepdims: m.sum(t[0], axes, keepdims),
)


def _mean_rule(m: Any, g: Any, y: Any, x: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    # every element's slope is 1/n
    if m is backend and g.ndim == 0:  # the mean of everything (a loss): one number to fill
        out = xp.empty(x.shape, dtype=g.dtype)
        out.fill(g.item() * (y.size / x.size))  # (NumPy is slow at 0-d array × float)
        return out
    return m.broadcast_to(_expand(m, g, axes, keepdims) * (y.size / x.size), lead(g, y) + x.shape)


mean_op = Op(
    "mean",
    lambda x, axes, keepdims: backend.sum(x, axes, keepdims) / _count(x.shape, axes),
    (_mean_rule,),
    lambda m, t, y, x, axes, keepdims: m.sum(t[0], axes, keepdims) * (y.size / x.size),
)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    if len(axes) == len(shape):
        return math.prod(shape)
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _arg_weights(x: Any, y: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """1/k at each of the k places that attain the max (or min), 0 elsewhere."""
    xr, yr = raw(x), raw(y)
    hit = xr == (yr if keepdims else xp.expand_dims(yr, axes))
    return hit / hit.sum(axis=axes, keepdims=True).astype(xr.dtype)


def _extremum(name: str, forward: Any) -> Op:
    # d max = the gradient goes to the arg-max (shared equally among ties)
    return Op(
        name,
        lambda x, axes, keepdims: forward(x, axis=axes, keepdims=keepdims),
        (lambda m, g, y, x, axes, keepdims: _expand(m, g, axes, keepdims)
         * _arg_weights(x, y, axes, keepdims),),
        lambda m, t, y, x, axes, keepdims: m.sum(
            t[0] * _arg_weights(x, y, axes, keepdims), axes, keepdims),
    )


amax_op = _extremum("max", xp.max)
amin_op = _extremum("min", xp.min)


def _prod_others(m: Any, x: Any, axes: tuple[int, ...]) -> Any:
    """For each element, the product of the others along ``axes`` (zeros allowed).

    The reduced axes are moved last and flattened to K; row i of a K×K stack
    holds x with its i-th entry replaced by 1, and each row's product is taken.
    O(K²), but only used when x holds a zero, and differentiable to any order.
    """
    nd = x.ndim
    pos = tuple(a % nd for a in axes)
    keep = tuple(a for a in range(nd) if a not in pos)
    perm = keep + pos
    moved = m.transpose(x, perm)
    k = 1
    for a in pos:
        k *= x.shape[a]
    flat = m.reshape(moved, tuple(moved.shape[: len(keep)]) + (1, k))
    rows = m.where(xp.eye(k, dtype=bool), 1.0, flat)  # (..., K, K)
    others = m.reshape(m.prod(rows, -1), moved.shape)
    inverse = tuple(perm.index(i) for i in range(nd))
    return m.transpose(others, inverse)


def _prod_rule(m: Any, g: Any, y: Any, x: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    # d prod / d xᵢ = the product of the other elements = prod / xᵢ when xᵢ ≠ 0
    gk = _expand(m, g, axes, keepdims)
    if (raw(x) != 0).all():
        return gk * _expand(m, y, axes, keepdims) / x
    return gk * _prod_others(m, x, axes)


prod_op = Op(
    "prod",
    lambda x, axes, keepdims: x.prod(axis=axes, keepdims=keepdims),
    (_prod_rule,),
    # d prod = Σ (∂ prod / ∂ xᵢ) · ẋᵢ: the VJP rule with g = 1 gives the ∂ prod / ∂ xᵢ
    lambda m, t, y, x, axes, keepdims: m.sum(
        t[0] * _prod_rule(m, m.ones_like(y), y, x, axes, keepdims), axes, keepdims),
)


# ---------------------------------------------------------------- public functions
def _reduce(op: Op, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = operand(x, op.name)
    nd = x.ndim
    axes = norm_axes(axis, nd, op.name)
    return apply(op, x, axes=axes, keepdims=keepdims)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (None: all)."""
    return _reduce(sum_op, x, axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (None: all): the sum times 1/n."""
    x = operand(x, "mean")
    axes = norm_axes(axis, x.ndim, "mean")
    if (x.data.size if axis is None else _count(x.shape, axes)) == 0:
        raise ValueError(f"mean: the axes {axis!r} of a tensor of shape {x.shape} are empty")
    return apply(mean_op, x, axes=axes, keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; the gradient is shared among tied maxima."""
    x = operand(x, "max")
    _nonempty(x, "max")
    return _reduce(amax_op, x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``; the gradient is shared among tied minima."""
    x = operand(x, "min")
    _nonempty(x, "min")
    return _reduce(amin_op, x, axis, keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Product over ``axis``."""
    return _reduce(prod_op, x, axis, keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis``: mean squared deviation, divided by n - ddof."""
    x = operand(x, "var")
    axes = norm_axes(axis, x.ndim, "var")
    n = _count(x.shape, axes)
    if n - ddof <= 0:
        raise ValueError(f"var: {n} element(s) with ddof={ddof} leave no degrees of freedom")
    d = x - mean(x, axes, keepdims=True)
    return sum(d * d, axes, keepdims) * (1.0 / (n - ddof))


def std(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation over ``axis``: the square root of ``var``."""
    x = operand(x, "std")
    return var(x, axis, keepdims, ddof).sqrt()


def _lse(x: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """log Σ exp(x) on arrays, shifted by the max so nothing overflows."""
    shift = xp.maximum.reduce(x, axis=axes, keepdims=True)
    shift = xp.where(xp.isfinite(shift), shift, 0)  # a row of -inf stays -inf, not nan
    total = backend.sum(xp.exp(x - shift), axes, True)
    if total.all():
        out = xp.log(total) + shift
    else:
        with xp.errstate(divide="ignore"):  # log 0 = -inf is the right answer for a -inf row
            out = xp.log(total) + shift
    return out if keepdims else out.reshape([n for i, n in enumerate(out.shape)
                                             if i - out.ndim not in axes])


def _softmax(x: Any, axes: tuple[int, ...]) -> Any:
    e = xp.exp(x - x.max(axis=axes, keepdims=True))
    return e / e.sum(axis=axes, keepdims=True)


logsumexp_op = Op(  # d logsumexp = softmax
    "logsumexp",
    _lse,
    (lambda m, g, y, x, axes, keepdims: _expand(m, g, axes, keepdims)
     * m.exp(x - _expand(m, y, axes, keepdims)),),
    lambda m, t, y, x, axes, keepdims: m.sum(
        t[0] * m.exp(x - _expand(m, y, axes, keepdims)), axes, keepdims),
)
softmax_op = Op(  # the Jacobian is diag(y) - y yᵀ, so  J·g = y (g - Σ g y)  (symmetric)
    "softmax",
    lambda x, axes: _softmax(x, axes),
    (lambda m, g, y, x, axes: y * (g - m.sum(g * y, axes, True)),),
    lambda m, t, y, x, axes: y * (t[0] - m.sum(t[0] * y, axes, True)),
)
log_softmax_op = Op(  # y = x - logsumexp x:  gᵀJ = g - softmax · Σ g,  J t = t - Σ softmax · t
    "log_softmax",
    lambda x, axes: x - _lse(x, axes, True),
    (lambda m, g, y, x, axes: g - m.exp(y) * m.sum(g, axes, True),),
    lambda m, t, y, x, axes: t[0] - m.sum(m.exp(y) * t[0], axes, True),
)


# ------------------------------------------------- softmax cross-entropy, in one op
# loss_n = logsumexp(x_n) - x_n[t_n] for logits x of shape (N, C) and class
# indices t; reduced by mean, sum or not at all. One node instead of four
# (log_softmax, pick, mean, negate), and its gradient is the textbook one:
# d loss_n / d x_n = softmax(x_n) - onehot(t_n).


def _ce_forward(x: Any, target: Any, reduction: str) -> Any:
    losses = _lse(x, (-1,), False) - x[xp.arange(x.shape[0]), target]
    if reduction == "none":
        return losses
    total = backend.sum(losses, None, False)
    return total / losses.shape[0] if reduction == "mean" else total


def _ce_softmax(m: Any, x: Any) -> Any:
    """Softmax over the classes, shifted by the row max (a constant): it cannot overflow."""
    e = m.exp(x - xp.maximum.reduce(raw(x), axis=-1, keepdims=True))
    return e / m.sum(e, -1, True)


def _ce_rule(m: Any, g: Any, y: Any, x: Any, target: Any, reduction: str) -> Any:
    # d loss_n / d x_n = softmax(x_n) - onehot(t_n), times g (and 1/N for the mean)
    n = raw(x).shape[0]
    d = _ce_softmax(m, x)
    rows = xp.arange(n)
    if m is backend:  # a fresh array: take the one-hot off in place
        d[rows, target] -= 1
    else:
        onehot = xp.zeros(raw(x).shape, dtype=raw(x).dtype)
        onehot[rows, target] = 1
        d = d - onehot
    if reduction == "none":  # one g per row
        return m.reshape(g, tuple(g.shape) + (1,)) * d
    g = m.reshape(g, tuple(g.shape) + (1, 1))  # one g for the whole loss
    return (g / n if reduction == "mean" else g) * d


def _ce_jvp(m: Any, ts: tuple, y: Any, x: Any, target: Any, reduction: str) -> Any:
    # d loss_n = Σ_c softmax(x_n)_c dx_nc - dx_n[t_n]
    t = ts[0]
    n = raw(x).shape[0]
    d = m.sum(_ce_softmax(m, x) * t, -1, False) - t[..., xp.arange(n), target]
    if reduction == "none":
        return d
    total = m.sum(d, -1, False)
    return total / n if reduction == "mean" else total


cross_entropy_op = Op("cross_entropy", _ce_forward, (_ce_rule,), _ce_jvp)


def cross_entropy(x: Tensor, target: Any, reduction: str) -> Tensor:
    """Softmax cross-entropy of logits ``x`` (N, C) against checked class indices."""
    return apply(cross_entropy_op, x, target=target, reduction=reduction)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """log Σ exp(x) over ``axis``, computed as max + log Σ exp(x - max) so it cannot overflow.

    Its gradient is softmax(x).
    """
    x = operand(x, "logsumexp")
    _nonempty(x, "logsumexp")
    return apply(logsumexp_op, x, axes=norm_axes(axis, x.ndim, "logsumexp"), keepdims=keepdims)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / Σ exp(x) along ``axis``, shifted by the max so it cannot overflow."""
    x = operand(x, "softmax")
    _nonempty(x, "softmax")
    return apply(softmax_op, x, axes=norm_axes(axis, x.ndim, "softmax"))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``, without overflow."""
    x = operand(x, "log_softmax")
    _nonempty(x, "log_softmax")
    return apply(log_softmax_op, x, axes=norm_axes(axis, x.ndim, "log_softmax"))


def _nonempty(x: Any, where: str) -> None:
    if xp.size(raw(x)) == 0:
        raise ValueError(f"{where}: the tensor is empty (shape {xp.shape(raw(x))})")
