"""Matrix product. For Y = A·B the vector-Jacobian products are the familiar
dA = dY·Bᵀ and dB = Aᵀ·dY: no Jacobian is ever built."""

from __future__ import annotations

from typing import Any

from ..backend import xp
from .op import Op, register


def _mm_rule_a(m: Any, g: Any, y: Any, a: Any, b: Any) -> Any:
    # dA = dY · Bᵀ  (1-D operands are promoted to matrices and squeezed back)
    if b.ndim == 2 and a.ndim >= 2:  # the everyday case, a layer's weight
        return g @ b.T
    g2 = g
    if b.ndim == 1:
        g2 = m.expand_dims(g2, -1)
    if a.ndim == 1:
        g2 = m.expand_dims(g2, -2)
    b2 = b if b.ndim > 1 else m.expand_dims(b, -1)
    da = m.matmul(g2, m.swapaxes(b2, -1, -2))
    return m.reshape(da, da.shape[:-2] + (da.shape[-1],)) if a.ndim == 1 else da


def _mm_rule_b(m: Any, g: Any, y: Any, a: Any, b: Any) -> Any:
    # dB = Aᵀ · dY
    if a.ndim == 2 and b.ndim >= 2:
        return a.T @ g
    g2 = g
    if b.ndim == 1:
        g2 = m.expand_dims(g2, -1)
    if a.ndim == 1:
        g2 = m.expand_dims(g2, -2)
    a2 = a if a.ndim > 1 else m.expand_dims(a, 0)
    db = m.matmul(m.swapaxes(a2, -1, -2), g2)
    return m.reshape(db, db.shape[:-1]) if b.ndim == 1 else db


def _mm_jvp(m: Any, ts: tuple, y: Any, a: Any, b: Any) -> Any:
    # d(A·B) = dA·B + A·dB; vectors are promoted to matrices, then squeezed back
    a2 = a if a.ndim > 1 else m.expand_dims(a, 0)
    b2 = b if b.ndim > 1 else m.expand_dims(b, -1)
    nd = max(a2.ndim, b2.ndim)
    total = None
    for i, (x, x2) in enumerate(((a, a2), (b, b2))):
        t = ts[i]
        if t is None:
            continue
        nb = t.ndim - x.ndim
        if x.ndim == 1:
            t = m.expand_dims(t, -2 if i == 0 else -1)
        t = m.reshape(t, t.shape[:nb] + (1,) * (nd - x2.ndim) + tuple(x2.shape))
        r = m.matmul(t, b2) if i == 0 else m.matmul(a2, t)
        total = r if total is None else total + r
    assert total is not None  # the engine asks only when some input has a tangent
    keep = ((total.shape[-2],) if a.ndim > 1 else ()) + ((total.shape[-1],) if b.ndim > 1 else ())
    return m.reshape(total, total.shape[:-2] + keep)


def _mm_mismatch(a: Any, b: Any) -> str:
    sa, sb = xp.shape(a), xp.shape(b)
    if not sa or not sb:
        why = "operands must have at least 1 dimension"
    elif sa[-1] != (sb[0] if len(sb) == 1 else sb[-2]):
        why = f"the inner dimensions {sa[-1]} and {sb[0] if len(sb) == 1 else sb[-2]} differ"
    else:
        why = "the batch dimensions do not broadcast"
    return f"{sa} @ {sb}: {why}"


matmul = Op(
    "matmul", xp.matmul, (_mm_rule_a, _mm_rule_b), _mm_jvp, describe=_mm_mismatch,
    formula="Y = A·B;  ∂L/∂A = G·Bᵀ,  ∂L/∂B = Aᵀ·G  (G = ∂L/∂Y; batched over leading axes)",
    saves=(0, 1),
)
register("matmul", matmul, function="matmul", methods="matmul __matmul__ __rmatmul__",
         family="linalg")


# ---------------------------------------------------------------- linear layer
# y = x·Wᵀ + b in one op (PyTorch's weight layout: W is (out, in)), so the
# product x·Wᵀ is not kept alive as a node of its own and b is added in place.


def _linear(x: Any, w: Any, b: Any) -> Any:
    out = xp.matmul(x, w.T)
    if out.dtype == xp.result_type(out, b):
        out += b
        return out
    return out + b


def _linear_rule_w(m: Any, g: Any, y: Any, x: Any, w: Any, b: Any) -> Any:
    # dW = gᵀ·x, summed over every leading (batch) axis by the engine
    if g.ndim == 2 and x.ndim == 2:
        return g.T @ x
    if x.ndim == 1:
        return m.reshape(g, g.shape + (1,)) * x
    return m.matmul(m.swapaxes(g, -1, -2), x)


def _linear_jvp(m: Any, ts: tuple, y: Any, x: Any, w: Any, b: Any) -> Any:
    # d(x·Wᵀ + b) = dx·Wᵀ + x·dWᵀ + db
    tx, tw, tb = ts
    total = None if tx is None else m.matmul(tx, m.swapaxes(w, -1, -2))
    if tw is not None:
        if x.ndim == 1:
            xw = m.matmul(tw, x)  # (batch, out, in)·(in,)
        else:  # x·dWᵀ, with dW's batch axes lined up in front of x's own
            nb = tw.ndim - 2
            twt = m.swapaxes(tw, -1, -2)
            twt = m.reshape(twt, twt.shape[:nb] + (1,) * (x.ndim - 2) + twt.shape[nb:])
            xw = m.matmul(x, twt)
        total = xw if total is None else total + xw
    if tb is not None:
        pre = tb.shape[: tb.ndim - 1]
        tb = m.reshape(tb, pre + (1,) * (y.ndim - 1) + tb.shape[-1:])
        total = tb if total is None else total + tb
    return total


linear = Op(
    "linear",
    _linear,
    (lambda m, g, y, x, w, b: g @ w, _linear_rule_w, lambda m, g, y, x, w, b: g),
    _linear_jvp,
    formula="Y = X·Wᵀ + b;  ∂L/∂X = G·W,  ∂L/∂W = Gᵀ·X,  ∂L/∂b = Σ G over the batch",
    saves=(0, 1),
)
register("linear", linear, function="nn.functional.linear", family="linalg")
