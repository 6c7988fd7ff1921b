"""Elementwise ops: each line is a forward and its derivative.

A rule ``(m, g, y, x...)`` gets the upstream gradient ``g``, the output ``y``
and the inputs; it returns ``g`` times the local derivative. Inputs that were
broadcast are summed back to shape by the engine, not here. The Jacobian of
an elementwise op is diagonal, so the same rule also pushes tangents forward.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..backend import xp
from ..tensor import Op, Tensor, apply, apply2, operand_error, unary_method
from ._util import raw

_2_SQRT_PI = 2.0 / math.sqrt(math.pi)


def unary(name: str, forward: Any, rule: Any) -> Op:
    return Op(name, forward, (rule,), elementwise=True)


def binary(name: str, forward: Any, rule_a: Any, rule_b: Any) -> Op:
    return Op(name, forward, (rule_a, rule_b), elementwise=True)


# ---------------------------------------------------------------- unary
neg = unary("neg", xp.negative, lambda m, g, y, x: -g)  # d(-x) = -1
exp = unary("exp", xp.exp, lambda m, g, y, x: g * y)  # d eˣ = eˣ
log = unary("log", xp.log, lambda m, g, y, x: g / x)  # d ln x = 1/x
sqrt = unary("sqrt", xp.sqrt, lambda m, g, y, x: g / (2 * y))  # d √x = 1/(2√x)
tanh = unary("tanh", xp.tanh, lambda m, g, y, x: g - g * y * y)  # d tanh = 1 - tanh²
sigmoid = unary(  # σ(x) = ½ tanh(x/2) + ½ (no overflow);  dσ = σ(1 - σ)
    "sigmoid", lambda x: 0.5 * xp.tanh(0.5 * x) + 0.5, lambda m, g, y, x: g * y * (1 - y)
)
relu = unary("relu", lambda x: xp.maximum(x, 0), lambda m, g, y, x: g * (raw(x) > 0))  # relu'(0)=0
abs = unary("abs", xp.abs, lambda m, g, y, x: g * xp.sign(raw(x)))  # |x|' = sign x, 0 at 0
sin = unary("sin", xp.sin, lambda m, g, y, x: g * m.cos(x))  # d sin = cos
cos = unary("cos", xp.cos, lambda m, g, y, x: -g * m.sin(x))  # d cos = -sin
erf = unary(  # d erf x = 2/√π · e^(-x²)
    "erf", backend.erf, lambda m, g, y, x: g * _2_SQRT_PI * m.exp(-(x * x))
)


def _clip_rule(m: Any, g: Any, y: Any, x: Any, lo: Any, hi: Any) -> Any:
    xr = raw(x)  # gradient passes where lo <= x <= hi, as PyTorch's clamp
    inside = xp.ones(xr.shape, dtype=bool)
    if lo is not None:
        inside &= xr >= lo
    if hi is not None:
        inside &= xr <= hi
    return g * inside


clip_op = Op("clip", lambda x, lo, hi: xp.clip(x, lo, hi), (_clip_rule,), elementwise=True)

# ---------------------------------------------------------------- binary
add = binary("add", xp.add, lambda m, g, y, a, b: g, lambda m, g, y, a, b: g)
sub = binary("sub", xp.subtract, lambda m, g, y, a, b: g, lambda m, g, y, a, b: -g)
mul = binary("mul", xp.multiply, lambda m, g, y, a, b: g * b, lambda m, g, y, a, b: g * a)
div = binary(  # d(a/b) = da/b - a·db/b²  and  a/b² = y/b
    "div", xp.true_divide, lambda m, g, y, a, b: g / b, lambda m, g, y, a, b: -g * y / b
)
pow = binary(  # d aᵇ = b·aᵇ⁻¹ da + aᵇ·ln a db   (ln a taken as 0 where a <= 0)
    "pow",
    xp.power,
    lambda m, g, y, a, b: g * b * a ** (b - 1),
    lambda m, g, y, a, b: g * y * m.log(m.where(raw(a) > 0, a, 1.0)),
)


def _pick(first: Any, second: Any) -> Any:
    """1 where ``first`` wins, ½ on a tie (the gradient is shared), 0 where it loses."""
    dtype = xp.result_type(first, second)
    w = (first > second).astype(dtype if dtype.kind == "f" else xp.float64)
    w += 0.5 * (first == second)
    return w


maximum = binary(
    "maximum",
    xp.maximum,
    lambda m, g, y, a, b: g * _pick(raw(a), raw(b)),
    lambda m, g, y, a, b: g * _pick(raw(b), raw(a)),
)
minimum = binary(
    "minimum",
    xp.minimum,
    lambda m, g, y, a, b: g * _pick(raw(b), raw(a)),
    lambda m, g, y, a, b: g * _pick(raw(a), raw(b)),
)
where_op = Op(  # where(c, a, b): the gradient goes to whichever side was picked
    "where",
    xp.where,
    (None, lambda m, g, y, c, a, b: g * raw(c), lambda m, g, y, c, a, b: g * ~raw(c)),
    elementwise=True,
)


# ---------------------------------------------------------------- public functions
def _check(x: Any, where: str) -> None:
    if not isinstance(x, (Tensor, int, float, backend.ndarray, xp.generic)):
        raise operand_error(where, type(x).__name__)


def _fn(op: Op) -> Any:
    f = unary_method(op)
    f.__doc__ = f"Elementwise {op.name}, differentiable; also the method ``Tensor.{op.name}()``."
    return f


negative = _fn(neg)
exp_ = _fn(exp)
log_ = _fn(log)
sqrt_ = _fn(sqrt)
tanh_ = _fn(tanh)
sigmoid_ = _fn(sigmoid)
relu_ = _fn(relu)
abs_ = _fn(abs)
sin_ = _fn(sin)
cos_ = _fn(cos)
erf_ = _fn(erf)


def clip(x: Any, lo: Any = None, hi: Any = None) -> Tensor:
    """Clamp ``x`` into ``[lo, hi]`` (either may be None); the gradient is 1 inside, 0 outside."""
    _check(x, "clip")
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo and hi")
    for bound in (lo, hi):
        if isinstance(bound, Tensor) and bound.requires_grad:
            raise TypeError(
                "clip: the bounds are constants, but one requires grad; for bounds to "
                "differentiate, use cr.minimum(cr.maximum(x, lo), hi)"
            )
    return apply(clip_op, x, lo=raw(lo), hi=raw(hi))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` is true, else ``b`` (broadcasting); differentiable in a and b."""
    for v, n in ((a, "a"), (b, "b")):
        _check(v, f"where ({n})")
    c = raw(cond)
    c = xp.asarray(c)
    if c.dtype != bool:
        raise TypeError(f"where: cond must be boolean, got dtype {c.dtype}")
    return apply(where_op, c, a, b)


def maximum_(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; on a tie each side gets half the gradient."""
    return apply2(maximum, a, b)


def minimum_(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; on a tie each side gets half the gradient."""
    return apply2(minimum, a, b)
