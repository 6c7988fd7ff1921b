"""Elementwise ops: each line is a forward and its derivative.

A rule ``(m, g, y, x...)`` gets the upstream gradient ``g`` = ∂L/∂y, the
output ``y`` and the inputs; it returns ``g`` times the local derivative.
Inputs that were broadcast are summed back to shape by the engine, not here.
The Jacobian of an elementwise op is diagonal, so the same rule also pushes
tangents forward.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..backend import xp
from ._util import raw
from .op import Op, register

_2_SQRT_PI = 2.0 / math.sqrt(math.pi)


def unary(name: str, forward: Any, rule: Any, formula: str, saves: tuple,
          methods: str = "") -> Op:
    op = Op(name, forward, (rule,), elementwise=True, formula=formula, saves=saves)
    register(name, op, function=name, methods=methods or name, family="elementwise")
    return op


def binary(name: str, forward: Any, rule_a: Any, rule_b: Any, formula: str,
           saves: tuple, methods: str, function: str | None = None) -> Op:
    op = Op(name, forward, (rule_a, rule_b), elementwise=True, formula=formula, saves=saves)
    register(name, op, function=function, methods=methods, family="elementwise")
    return op


# ---------------------------------------------------------------- unary
neg = Op("neg", xp.negative, (lambda m, g, y, x: -g,), elementwise=True,
         formula="y = -x;  ∂L/∂x = -g", saves=())
register("neg", neg, methods="__neg__", family="elementwise")
exp = unary("exp", xp.exp, lambda m, g, y, x: g * y,  # d eˣ = eˣ
            "y = eˣ;  ∂L/∂x = g·y", ("out",))
log = unary("log", xp.log, lambda m, g, y, x: g / x,  # d ln x = 1/x
            "y = ln x;  ∂L/∂x = g / x", (0,))
log1p = unary("log1p", xp.log1p, lambda m, g, y, x: g / (1 + x),  # exact for tiny x
              "y = ln(1 + x);  ∂L/∂x = g / (1 + x)", (0,))
sqrt = unary("sqrt", xp.sqrt, lambda m, g, y, x: g / (2 * y),  # d √x = 1/(2√x)
             "y = √x;  ∂L/∂x = g / (2y)", ("out",))
tanh = unary("tanh", xp.tanh, lambda m, g, y, x: g - g * y * y,  # d tanh = 1 - tanh²
             "y = tanh x;  ∂L/∂x = g·(1 - y²)", ("out",))
sigmoid = unary(  # σ(x) = ½ tanh(x/2) + ½ (no overflow);  dσ = σ(1 - σ)
    "sigmoid", lambda x: 0.5 * xp.tanh(0.5 * x) + 0.5, lambda m, g, y, x: g * y * (1 - y),
    "y = σ(x) = 1/(1 + e⁻ˣ);  ∂L/∂x = g·y·(1 - y)", ("out",))
relu = unary("relu", lambda x: xp.maximum(x, 0), lambda m, g, y, x: g * (raw(x) > 0),
             "y = max(x, 0);  ∂L/∂x = g·[x > 0]  (0 at 0, as PyTorch)", (0,))
abs = unary("abs", xp.abs, lambda m, g, y, x: g * xp.sign(raw(x)),  # |x|' = sign x
            "y = |x|;  ∂L/∂x = g·sign(x)  (0 at 0)", (0,), "abs __abs__")
sin = unary("sin", xp.sin, lambda m, g, y, x: g * m.cos(x),  # d sin = cos
            "y = sin x;  ∂L/∂x = g·cos x", (0,))
cos = unary("cos", xp.cos, lambda m, g, y, x: -g * m.sin(x),  # d cos = -sin
            "y = cos x;  ∂L/∂x = -g·sin x", (0,))
erf = unary("erf", backend.erf, lambda m, g, y, x: g * _2_SQRT_PI * m.exp(-(x * x)),
            "y = erf x;  ∂L/∂x = g·(2/√π)·e^(-x²)", (0,))


def _clip_rule(m: Any, g: Any, y: Any, x: Any, lo: Any, hi: Any) -> Any:
    xr = raw(x)  # the gradient passes where lo <= x <= hi, as PyTorch's clamp
    inside = xp.ones_like(xr, dtype=bool)
    if lo is not None:
        inside &= xr >= lo
    if hi is not None:
        inside &= xr <= hi
    return g * inside


clip = Op("clip", lambda x, lo, hi: xp.clip(x, lo, hi), (_clip_rule,), elementwise=True,
          formula="y = min(max(x, lo), hi);  ∂L/∂x = g·[lo ≤ x ≤ hi]", saves=(0,))
register("clip", clip, function="clip", methods="clip clamp", family="elementwise")

# ---------------------------------------------------------------- binary
add = binary("add", xp.add, lambda m, g, y, a, b: g, lambda m, g, y, a, b: g,
             "y = a + b;  ∂L/∂a = g,  ∂L/∂b = g", (), "__add__ __radd__")
sub = binary("sub", xp.subtract, lambda m, g, y, a, b: g, lambda m, g, y, a, b: -g,
             "y = a - b;  ∂L/∂a = g,  ∂L/∂b = -g", (), "__sub__ __rsub__")
mul = binary("mul", xp.multiply, lambda m, g, y, a, b: g * b, lambda m, g, y, a, b: g * a,
             "y = a·b;  ∂L/∂a = g·b,  ∂L/∂b = g·a", (0, 1), "__mul__ __rmul__")
div = binary(  # d(a/b) = da/b - a·db/b²  and  a/b² = y/b
    "div", xp.true_divide, lambda m, g, y, a, b: g / b, lambda m, g, y, a, b: -g * y / b,
    "y = a / b;  ∂L/∂a = g / b,  ∂L/∂b = -g·y / b", (1, "out"), "__truediv__ __rtruediv__")
pow = binary(  # d aᵇ = b·aᵇ⁻¹ da + aᵇ·ln a db   (ln a taken as 0 where a <= 0)
    "pow",
    xp.power,
    lambda m, g, y, a, b: g * b * a ** (b - 1),
    lambda m, g, y, a, b: g * y * m.log(m.where(raw(a) > 0, a, 1.0)),
    "y = aᵇ;  ∂L/∂a = g·b·aᵇ⁻¹,  ∂L/∂b = g·y·ln a", (0, 1, "out"), "__pow__ __rpow__ pow",
)


def _pick(first: Any, second: Any) -> Any:
    """1 where ``first`` wins, ½ on a tie (the gradient is shared), 0 where it loses."""
    dtype = backend.result_type(first, second)
    w = (first > second).astype(dtype if dtype.kind == "f" else xp.float64)
    w += 0.5 * (first == second)
    return w


maximum = binary(
    "maximum", xp.maximum,
    lambda m, g, y, a, b: g * _pick(raw(a), raw(b)),
    lambda m, g, y, a, b: g * _pick(raw(b), raw(a)),
    "y = max(a, b);  ∂L/∂a = g·[a > b],  ∂L/∂b = g·[b > a]  (½ each on a tie)",
    (0, 1), "maximum", "maximum",
)
minimum = binary(
    "minimum", xp.minimum,
    lambda m, g, y, a, b: g * _pick(raw(b), raw(a)),
    lambda m, g, y, a, b: g * _pick(raw(a), raw(b)),
    "y = min(a, b);  ∂L/∂a = g·[a < b],  ∂L/∂b = g·[b < a]  (½ each on a tie)",
    (0, 1), "minimum", "minimum",
)
where = Op(  # where(c, a, b): the gradient goes to whichever side was picked
    "where",
    xp.where,
    (None, lambda m, g, y, c, a, b: g * raw(c), lambda m, g, y, c, a, b: g * ~raw(c)),
    elementwise=True,
    formula="y = a where c else b;  ∂L/∂a = g·c,  ∂L/∂b = g·(not c)",
    saves=(0,),
)
register("where", where, function="where", family="elementwise")
