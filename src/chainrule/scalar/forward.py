"""Forward mode on the scalar engine: the same local derivatives as
``backward()``, summed from the inputs towards the output.

Reverse mode asks "how does the output move when each node moves?" and sweeps
from the output back. Forward mode asks "how does every node move when the
inputs move along a direction?" and sweeps the other way: each node's tangent
is the sum over its inputs of ∂node/∂input × the input's tangent. Both sweeps
touch every edge once (see docs/forward-vs-reverse.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..graph import toposort
from .value import Number, Value, _as_float


def jvp(
    f: Callable[..., Value | float],
    primals: Sequence[Number | Value],
    tangents: Sequence[Number],
) -> tuple[float, float]:
    """``f(*primals)`` and its derivative in the direction ``tangents``.

    ``f`` takes and returns Values. It runs once, on fresh copies of the
    primals; then one sweep from the inputs towards the output computes each
    node's tangent from the local derivatives its gate cached. No backward
    pass runs and no ``.grad`` changes.

    >>> jvp(lambda x, y: x * y + x.sin(), (2.0, 3.0), (1.0, 0.0))  # ∂/∂x = y + cos x
    (6.909297426825682, 2.5838531634528574)
    """
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp() got {len(primals)} primals but {len(tangents)} tangents; "
            "pass one tangent per primal"
        )
    inputs = [
        Value(p.data, p.label) if isinstance(p, Value)
        else Value(_as_float(p, "a jvp() primal", "float(p)"))
        for p in primals
    ]
    tangent = {
        x: _as_float(t, "a jvp() tangent", "float(t)")
        for x, t in zip(inputs, tangents, strict=True)
    }
    out = f(*inputs)
    if not isinstance(out, Value):
        return _as_float(out, "the result of jvp()'s f", "return a Value"), 0.0
    for node in toposort(out, lambda v: v.inputs):  # every input before its consumers
        x, y = node._x, node._y
        if x is None:
            continue  # an input (its tangent is given) or a constant (tangent 0)
        # ṅode = ∂node/∂x · ẋ + ∂node/∂y · ẏ
        t = node._dx * tangent.get(x, 0.0)
        if y is not None:
            t += node._dy * tangent.get(y, 0.0)
        tangent[node] = t
    return out.data, tangent.get(out, 0.0)
