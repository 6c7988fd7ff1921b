"""Reductions and the softmax family. ``axes`` are stored counted from the end,
so a rule still finds them when the gradient carries extra leading (batch) axes."""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..backend import xp
from ._util import lead, raw
from .op import Op, register


def _expand(m: Any, g: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """Put the reduced axes back (as size 1) so ``g`` lines up with the input
    (a 0-d ``g``, from a full reduction, already does)."""
    return g if keepdims or not g.ndim else m.expand_dims(g, axes)


def count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """How many elements each output element of a reduction over ``axes`` sums."""
    if len(axes) == len(shape):
        return math.prod(shape)
    return math.prod(shape[a] for a in axes)


# sum: every input element feeds the sum with slope 1, so g is copied back out.
sum = Op(
    "sum",
    lambda x, axes, keepdims: backend.sum(x, axes, keepdims),
    (lambda m, g, y, x, axes, keepdims: m.broadcast_to(
        _expand(m, g, axes, keepdims), lead(g, y) + x.shape),),
    lambda m, t, y, x, axes, keepdims: m.sum(t[0], axes, keepdims),
    formula="y = Σ x over axes;  ∂L/∂x = g copied back along the summed axes",
    saves=(),
)


def _mean_rule(m: Any, g: Any, y: Any, x: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    # every element's slope is 1/n
    if m is backend and g.ndim == 0 and type(g) is xp.ndarray:  # the mean of everything
        # (a loss) on the cpu: one number to fill
        out = xp.empty(x.shape, dtype=g.dtype)
        out.fill(g.item() / x.size)  # (NumPy is slow at 0-d array × float)
        return out
    return m.broadcast_to(_expand(m, g, axes, keepdims) * (1.0 / count(x.shape, axes)),
                          lead(g, y) + x.shape)


mean = Op(
    "mean",
    lambda x, axes, keepdims: backend.sum(x, axes, keepdims) / count(x.shape, axes),
    (_mean_rule,),
    lambda m, t, y, x, axes, keepdims: m.sum(t[0], axes, keepdims) * (1.0 / count(x.shape, axes)),
    formula="y = (1/n) Σ x over axes;  ∂L/∂x = g / n copied back",
    saves=(),
)


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
        formula=f"y = {name} x over axes;  ∂L/∂x = g at the arg-{name} (shared among ties), "
                "0 elsewhere",
        saves=(0, "out"),
    )


max = _extremum("max", xp.max)
min = _extremum("min", xp.min)


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
    k = math.prod(x.shape[a] for a in pos)
    flat = m.reshape(moved, tuple(moved.shape[: len(keep)]) + (1, k))
    rows = m.where(backend.eye_of(k, bool, raw(x)), 1.0, flat)  # (..., K, K)
    others = m.reshape(m.prod(rows, -1), moved.shape)
    inverse = tuple(perm.index(i) for i in range(nd))
    return m.transpose(others, inverse)


def _prod_rule(m: Any, g: Any, y: Any, x: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    # d prod / d xᵢ = the product of the other elements = prod / xᵢ when xᵢ ≠ 0
    gk = _expand(m, g, axes, keepdims)
    if (raw(x) != 0).all():
        return gk * _expand(m, y, axes, keepdims) / x
    return gk * _prod_others(m, x, axes)


prod = Op(
    "prod",
    lambda x, axes, keepdims: x.prod(axis=axes, keepdims=keepdims),
    (_prod_rule,),
    # d prod = Σ (∂ prod / ∂ xᵢ) · ẋᵢ: the VJP rule with g = 1 gives the ∂ prod / ∂ xᵢ
    lambda m, t, y, x, axes, keepdims: m.sum(
        t[0] * _prod_rule(m, m.ones_like(y), y, x, axes, keepdims), axes, keepdims),
    formula="y = Π x over axes;  ∂L/∂xᵢ = g · (the product of the others) = g·y/xᵢ",
    saves=(0, "out"),
)


def lse(x: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """log Σ exp(x) on arrays, shifted by the max so nothing overflows."""
    shift = x.max(axis=axes, keepdims=True)
    shift = xp.where(xp.isfinite(shift), shift, 0)  # a row of -inf stays -inf, not nan
    total = backend.sum(xp.exp(x - shift), axes, True)
    out = xp.log(total) + shift  # log 0 = -inf is the right answer for a row of -inf
    return out if keepdims else out.reshape([n for i, n in enumerate(out.shape)
                                             if i - out.ndim not in axes])


def _softmax(x: Any, axes: tuple[int, ...]) -> Any:
    e = xp.exp(x - x.max(axis=axes, keepdims=True))
    return e / e.sum(axis=axes, keepdims=True)


logsumexp = Op(  # d logsumexp = softmax
    "logsumexp",
    lse,
    (lambda m, g, y, x, axes, keepdims: _expand(m, g, axes, keepdims)
     * m.exp(x - _expand(m, y, axes, keepdims)),),
    lambda m, t, y, x, axes, keepdims: m.sum(
        t[0] * m.exp(x - _expand(m, y, axes, keepdims)), axes, keepdims),
    formula="y = log Σ eˣ over axes;  ∂L/∂x = g·softmax(x) = g·e^(x - y)",
    saves=(0, "out"),
)
softmax = Op(  # the Jacobian is diag(y) - y yᵀ, so  J·g = y (g - Σ g y)  (symmetric)
    "softmax",
    lambda x, axes: _softmax(x, axes),
    (lambda m, g, y, x, axes: y * (g - m.sum(g * y, axes, True)),),
    lambda m, t, y, x, axes: y * (t[0] - m.sum(t[0] * y, axes, True)),
    formula="y = eˣ / Σ eˣ along an axis;  ∂L/∂x = y·(g - Σ g·y)",
    saves=("out",),
)
log_softmax = Op(  # y = x - logsumexp x:  gᵀJ = g - softmax · Σ g,  J t = t - Σ softmax · t
    "log_softmax",
    lambda x, axes: x - lse(x, axes, True),
    (lambda m, g, y, x, axes: g - m.exp(y) * m.sum(g, axes, True),),
    lambda m, t, y, x, axes: t[0] - m.sum(m.exp(y) * t[0], axes, True),
    formula="y = x - log Σ eˣ along an axis;  ∂L/∂x = g - eʸ·Σ g",
    saves=("out",),
)


# ------------------------------------------------- softmax cross-entropy, in one op
# loss_n = logsumexp(x_n) - x_n[t_n] for logits x of shape (N, C) and class
# indices t; reduced by mean, sum or not at all. One node instead of four
# (log_softmax, pick, mean, negate), and its gradient is the textbook one:
# d loss_n / d x_n = softmax(x_n) - onehot(t_n).


def _ce_forward(x: Any, target: Any, reduction: str) -> Any:
    losses = lse(x, (-1,), False) - x[backend.arange_of(x.shape[0], x), target]
    if reduction == "none":
        return losses
    total = backend.sum(losses, None, False)
    return total / losses.shape[0] if reduction == "mean" else total


def _ce_softmax(m: Any, x: Any) -> Any:
    """Softmax over the classes, shifted by the row max (a constant): it cannot overflow."""
    e = m.exp(x - raw(x).max(axis=-1, keepdims=True))
    return e / m.sum(e, -1, True)


def _ce_rule(m: Any, g: Any, y: Any, x: Any, target: Any, reduction: str) -> Any:
    # d loss_n / d x_n = softmax(x_n) - onehot(t_n), times g (and 1/N for the mean)
    n = raw(x).shape[0]
    d = _ce_softmax(m, x)
    rows = backend.arange_of(n, raw(x))
    if m is backend:  # a fresh array: take the one-hot off in place
        d[rows, target] -= 1
    else:
        onehot = backend.zeros_of(raw(x).shape, raw(x).dtype, raw(x))
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
    d = m.sum(_ce_softmax(m, x) * t, -1, False) - t[..., backend.arange_of(n, raw(x)), target]
    if reduction == "none":
        return d
    total = m.sum(d, -1, False)
    return total / n if reduction == "mean" else total


cross_entropy = Op(
    "cross_entropy", _ce_forward, (_ce_rule,), _ce_jvp,
    formula="loss_n = log Σ_c e^(x_nc) - x_n,t_n;  ∂L/∂x_n = g·(softmax(x_n) - onehot(t_n))",
    saves=(0,),
)

_F = "reduce"
register("sum", sum, function="sum", methods="sum", family=_F)
register("mean", mean, function="mean", methods="mean", family=_F)
register("max", max, function="max", methods="max", family=_F)
register("min", min, function="min", methods="min", family=_F)
register("prod", prod, function="prod", methods="prod", family=_F)
register("var", function="var", methods="var", family=_F,
         formula="var(x) = Σ (x - mean x)² / (n - ddof): a composite of mean, sub, mul, sum")
register("std", function="std", methods="std", family=_F,
         formula="std(x) = √var(x): a composite of var and sqrt")
register("logsumexp", logsumexp, function="logsumexp", methods="logsumexp", family=_F)
register("softmax", softmax, function="softmax", methods="softmax", family=_F)
register("log_softmax", log_softmax, function="log_softmax", methods="log_softmax", family=_F)
register("cross_entropy", cross_entropy, function="nn.functional.cross_entropy", family=_F)
