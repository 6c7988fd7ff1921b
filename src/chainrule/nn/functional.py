"""Layers and losses as plain functions of Tensors (``import chainrule.nn.functional as F``).

Everything here is composed from the engine's differentiable ops, so
gradients, and gradients of gradients, come for free. Signatures and
conventions follow ``torch.nn.functional``: ``dim`` for the class axis,
``reduction='mean' | 'sum' | 'none'`` for losses, class-index targets.
The loss functions live in ``nn/loss_functions.py`` and are re-exported here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

from chainrule import backend
from chainrule.engine import Tensor, no_grad
from chainrule.engine.factories import generator as _default_generator
from chainrule.engine.functions import erf as erf_
from chainrule.engine.functions import maximum as maximum_
from chainrule.engine.functions import unfold2d
from chainrule.engine.functions import where as where_
from chainrule.engine.record import apply as _apply
from chainrule.errors import ShapeError
from chainrule.nn.loss_functions import REDUCTIONS as _REDUCTIONS  # noqa: F401
from chainrule.nn.loss_functions import check_reduction as _check_reduction
from chainrule.nn.loss_functions import cross_entropy, mse_loss, nll_loss  # noqa: F401
from chainrule.nn.loss_functions import reduce_loss as _reduce
from chainrule.nn.params import IntPair, check_input_dtype
from chainrule.nn.params import pair as _pair
from chainrule.nn.pooling import avg_pool2d, max_pool2d  # noqa: F401  (F.max_pool2d, ...)
from chainrule.ops import linalg as _linalg_ops

from ..backend import xp as np  # the array library, through the one seam

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
# a Tensor, or anything ``cr.tensor`` accepts (an ndarray, nested lists, a number)
TensorLike = Any


def _t(x: TensorLike) -> Any:
    """``x`` as a Tensor (no copy when it already is one)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.data.shape if isinstance(x, Tensor) else np.shape(x))


# ------------------------------------------------------------------ activations
def relu(x: TensorLike) -> Tensor:
    """max(x, 0); the derivative at 0 is taken as 0, as in PyTorch."""
    return _t(x).relu()


def tanh(x: TensorLike) -> Tensor:
    return _t(x).tanh()


def sigmoid(x: TensorLike) -> Tensor:
    return _t(x).sigmoid()


def leaky_relu(x: TensorLike, negative_slope: float = 0.01) -> Tensor:
    """``x`` where ``x > 0``, else ``negative_slope * x`` (the slope at 0, as in PyTorch)."""
    x = _t(x)
    return where_(x.data > 0, x, x * negative_slope)


def gelu(x: TensorLike, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit: ``x * Φ(x) = x/2 * (1 + erf(x / sqrt 2))``.

    ``approximate='tanh'`` uses ``x/2 * (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))``.
    """
    x = _t(x)
    if approximate == "none":
        return 0.5 * x * (1.0 + erf_(x * _SQRT_HALF))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + (_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)).tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def softmax(x: TensorLike, dim: int = -1) -> Tensor:
    """exp(x) / Σ exp(x) along ``dim`` (computed without overflow)."""
    return _t(x).softmax(dim)


def log_softmax(x: TensorLike, dim: int = -1) -> Tensor:
    """log(softmax(x)) along ``dim``, computed as ``x - logsumexp(x)`` (stable)."""
    return _t(x).log_softmax(dim)


def softplus(x: TensorLike) -> Tensor:
    """log(1 + exp(x)) without overflow, written ``max(x, 0) + log1p(exp(-|x|))``.

    At ``x = 0`` the two kinks cancel: ``maximum`` shares its tie, so the
    derivative there is the true 1/2.
    """
    x = _t(x)
    return maximum_(x, 0.0) + (-x.abs()).exp().log1p()


# ------------------------------------------------------------------ layers
def linear(x: TensorLike, weight: TensorLike, bias: TensorLike | None = None) -> Tensor:
    """``x @ weight.T + bias`` with ``weight`` shaped ``(out_features, in_features)``."""
    xs, ws = _shape(x), _shape(weight)
    if len(ws) != 2 or not xs or xs[-1] != ws[1]:
        raise ShapeError(
            f"linear: input of shape {xs} does not fit weight of shape {ws} "
            f"(the input's last dimension must be in_features={ws[-1] if ws else '?'})"
        )
    check_input_dtype("linear", x, weight)
    x = _t(x)
    if len(xs) > 2:
        # (..., in) as one (rows, in) matrix: NumPy multiplies a stack of matrices by
        # the transposed weight one matrix at a time, about 5x slower than one product
        flat = linear(x.reshape(-1, xs[-1]), weight, bias)
        return flat.reshape(*xs[:-1], ws[0])
    if bias is None:
        return x @ _t(weight).T
    return _apply(_linalg_ops.linear, x, _t(weight), bias)


def dropout(x: TensorLike, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The identity when ``training`` is False or ``p == 0``. Masks are drawn
    from chainrule's seeded generator (``cr.manual_seed``).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p!r}")
    x = _t(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        mask = np.zeros_like(x.data)
    else:
        keep = _default_generator(x.device).random(x.data.shape) >= p
        mask = (keep * (1.0 / (1.0 - p))).astype(x.data.dtype)
    return x * mask


def layer_norm(
    x: TensorLike,
    normalized_shape: Sequence[int],
    weight: TensorLike | None = None,
    bias: TensorLike | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` axes, then scale and shift."""
    x = _t(x)
    shape = tuple(normalized_shape)
    if x.data.shape[x.ndim - len(shape) :] != shape:
        raise ShapeError(
            f"layer_norm: input of shape {x.shape} does not end in normalized_shape {shape}"
        )
    if weight is not None:
        check_input_dtype("layer_norm", x, weight)
    axes = tuple(range(-len(shape), 0))
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    y = centred / (var + eps).sqrt()
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def rms_norm(
    x: TensorLike,
    normalized_shape: int | Sequence[int],
    weight: TensorLike | None = None,
    eps: float | None = None,
) -> Tensor:
    """Divide by the root mean square over the last axes, then scale: ``x / √(mean x² + eps) · w``.

    Like ``layer_norm`` without the centring and the bias. ``eps`` None is the
    machine epsilon of ``x``'s dtype, as in PyTorch.
    """
    x = _t(x)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or x.data.shape[x.ndim - len(shape) :] != shape:
        raise ShapeError(
            f"rms_norm: input of shape {x.shape} does not end in normalized_shape {shape}"
        )
    if weight is not None:
        check_input_dtype("rms_norm", x, weight)
    if eps is None:
        eps = float(np.finfo(x.data.dtype).eps) if x.data.dtype.kind == "f" else 1e-6
    axes = tuple(range(-len(shape), 0))
    y = x / ((x * x).mean(axis=axes, keepdims=True) + eps).sqrt()
    return y if weight is None else y * weight


def batch_norm(
    x: TensorLike,
    running_mean: TensorLike | None,
    running_var: TensorLike | None,
    weight: TensorLike | None = None,
    bias: TensorLike | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)``, per channel C.

    In training the batch statistics normalise (biased variance) and the
    running ones are updated in place: ``running = (1 - momentum) * running +
    momentum * batch`` with the unbiased variance, as PyTorch does. In
    evaluation the running statistics are used.
    """
    x = _t(x)
    if x.ndim not in (2, 3, 4):
        raise ShapeError(
            f"batch_norm: expected input of shape (N, C), (N, C, L) or (N, C, H, W), got {x.shape}"
        )
    if weight is not None:
        check_input_dtype("batch_norm", x, weight)
    axes = (0, *range(2, x.ndim))  # every axis but the channels
    view = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        n = x.data.size // x.data.shape[1]
        if n < 2:
            raise ValueError(
                f"batch_norm: need more than 1 value per channel when training, got input "
                f"of shape {x.shape}"
            )
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        if running_mean is not None and running_var is not None:
            with no_grad():
                m = momentum
                batch_mean = mean.data.reshape(-1)
                batch_var = var.data.reshape(-1) * (n / (n - 1))
                running_mean.data[...] = (1 - m) * running_mean.data + m * batch_mean
                running_var.data[...] = (1 - m) * running_var.data + m * batch_var
        y = centred / (var + eps).sqrt()
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation needs running_mean and running_var")
        rm = running_mean.data.reshape(view).astype(x.data.dtype, copy=False)
        rv = running_var.data.reshape(view).astype(x.data.dtype, copy=False)
        y = (x - rm) / np.sqrt(rv + eps)
    if weight is not None:
        y = y * weight.reshape(view)
    if bias is not None:
        y = y + bias.reshape(view)
    return y


def embedding(indices: Any, weight: TensorLike) -> Tensor:
    """Rows of ``weight`` picked by integer ``indices`` (any shape): ``weight[indices]``."""
    idx = indices.data if isinstance(indices, Tensor) else indices
    if not backend.is_array(idx):
        idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    n = weight.data.shape[0]
    backend.check_range(idx, 0, n, f"embedding: index {{}} is out of range for {n} embeddings")
    return weight[idx]


def conv2d(
    x: TensorLike,
    weight: TensorLike,
    bias: TensorLike | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch) of ``(N, C, H, W)`` inputs.

    ``weight`` has shape ``(out_channels, C, kh, kw)``. Computed as one
    (batched) matrix product over every window at once: ``cr.unfold2d``
    (im2col) lays the windows out as columns ``(N, C·kh·kw, L)``, and
    ``weight.reshape(out, C·kh·kw) @ columns`` gives ``(N, out, L)``, already
    in channel-first order.
    """
    x = _t(x)
    xs, ws = x.data.shape, _shape(weight)
    if x.ndim != 4 or len(ws) != 4 or xs[1] != ws[1]:
        raise ShapeError(
            f"conv2d: input of shape {xs} does not fit weight of shape {ws} "
            "(expected input (N, C, H, W) and weight (out_channels, C, kh, kw))"
        )
    check_input_dtype("conv2d", x, weight)
    s = _pair(stride, "stride", "conv2d")
    p = _pair(padding, "padding", "conv2d")
    n, (o, c, kh, kw) = xs[0], ws
    ho = (xs[2] + 2 * p[0] - kh) // s[0] + 1
    wo = (xs[3] + 2 * p[1] - kw) // s[1] + 1
    cols = unfold2d(x, (kh, kw), s, p)  # (N, C*kh*kw, L)
    out = _t(weight).reshape(o, c * kh * kw) @ cols  # (O, C*kh*kw) @ (N, C*kh*kw, L)
    if bias is not None:
        out = out + _t(bias).reshape(o, 1)
    return out.reshape(n, o, ho, wo)  # (N, O, L) is already channel-first: no transpose


def flatten(x: TensorLike, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merge axes ``start_dim..end_dim`` (by default all but the batch axis)."""
    return _t(x).flatten(start_dim, end_dim)


# ------------------------------------------------------------------ attention
@functools.lru_cache(maxsize=64)
def _causal_bias(n_queries: int, n_keys: int, dtype: Any, device: str = "cpu") -> Any:
    """0 where query i may see key j (j <= i, aligned top-left as in PyTorch), -inf
    elsewhere; made once per size, on the device that asks."""
    bias = np.where(np.tri(n_queries, n_keys, dtype=bool), 0.0, -np.inf).astype(dtype)
    if device != "cpu":
        return backend.to_device(bias, device)
    bias.flags.writeable = False
    return bias


def _repeat_heads(x: Tensor, heads: int, name: str) -> Tensor:
    """``x`` (..., Hk, S, E) with each head repeated to make ``heads`` heads (repeat_interleave)."""
    shape = x.data.shape
    if x.ndim < 3 or heads % shape[-3]:
        raise ShapeError(
            f"{name}: enable_gqa needs the query's heads ({heads}) to be a multiple of the "
            f"key's and value's heads (axis -3 of shape {shape})"
        )
    rep = heads // shape[-3]
    big = x.unsqueeze(-3).broadcast_to((*shape[:-2], rep, *shape[-2:]))
    return big.reshape(*shape[:-3], heads, *shape[-2:])


def _mask_scores(scores: Tensor, attn_mask: Any, name: str) -> tuple[Tensor, Any]:
    """The scores with the mask applied, and where rows may attend somewhere (None: all)."""
    m = attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask
    if not backend.is_array(m):
        m = np.asarray(m)
    shape = scores.data.shape
    try:
        fits = np.broadcast_shapes(m.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"{name}: attn_mask of shape {m.shape} does not broadcast to the attention "
            f"scores' shape {shape} (..., L, S)"
        )
    if m.dtype == bool:  # True: may attend
        scores = scores + np.where(m, 0.0, -np.inf).astype(scores.data.dtype)
    elif m.dtype == scores.data.dtype:  # added to the scores; -inf blocks
        scores = scores + attn_mask
    else:
        raise TypeError(
            f"{name}: attn_mask must be boolean (True: may attend) or of the query's dtype "
            f"{scores.data.dtype} (added to the scores), got {m.dtype}"
        )
    blocked = np.isneginf(scores.data).all(axis=-1, keepdims=True)
    if not backend.on_device(blocked) and not blocked.any():  # (a GPU would wait for it)
        return scores, None
    # a row that may attend nowhere: softmax over a row of 0s (no NaN), then zeroed
    return where_(blocked, 0.0, scores), ~blocked


def _attention(
    query: TensorLike,
    key: TensorLike,
    value: TensorLike,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    name: str = "scaled_dot_product_attention",
) -> tuple[Tensor, Tensor]:
    """What ``scaled_dot_product_attention`` computes, and its attention weights (..., L, S)."""
    q, k, v = _t(query), _t(key), _t(value)
    qs, ks, vs = q.data.shape, k.data.shape, v.data.shape
    if min(len(qs), len(ks), len(vs)) < 2 or qs[-1] != ks[-1] or ks[-2] != vs[-2]:
        raise ShapeError(
            f"{name}: query {qs}, key {ks} and value {vs} do not fit: expected shapes "
            "(..., L, E), (..., S, E) and (..., S, Ev)"
        )
    dtype = q.data.dtype
    if dtype.kind != "f" or k.data.dtype != dtype or v.data.dtype != dtype:
        raise TypeError(
            f"{name}: query, key and value must share one floating dtype, got {dtype}, "
            f"{k.data.dtype} and {v.data.dtype}"
        )
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{name}: dropout_p must be in [0, 1], got {dropout_p!r}")
    if enable_gqa and len(qs) >= 3 and (ks[-3] != qs[-3] or vs[-3] != qs[-3]):
        k, v = _repeat_heads(k, qs[-3], name), _repeat_heads(v, qs[-3], name)
    scores = (q @ k.mT) * (1.0 / math.sqrt(qs[-1]) if scale is None else float(scale))
    keep = None
    if is_causal:
        if attn_mask is not None:
            raise ValueError(
                f"{name}: give attn_mask or is_causal=True, not both (is_causal makes the "
                "causal mask itself)"
            )
        scores = scores + _causal_bias(qs[-2], ks[-2], dtype, q.device)
    elif attn_mask is not None:
        scores, keep = _mask_scores(scores, attn_mask, name)
    weights = scores.softmax(-1)
    if keep is not None:
        weights = where_(keep, weights, 0.0)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ v, weights


def scaled_dot_product_attention(
    query: TensorLike,
    key: TensorLike,
    value: TensorLike,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """Attention: ``softmax(Q Kᵀ · scale + mask) V`` over the last two axes, as in PyTorch.

    ``query`` is ``(..., L, E)``, ``key`` ``(..., S, E)``, ``value`` ``(..., S, Ev)``
    (usually ``(N, heads, length, head_dim)``); the result is ``(..., L, Ev)``.
    ``scale`` defaults to ``1/√E``. ``attn_mask`` broadcasts to ``(..., L, S)``:
    boolean, True where a query may attend to a key; or floating, added to the
    scores (``-inf`` blocks). ``is_causal=True`` lets query i see keys 0..i
    only (the mask aligned top-left). ``dropout_p`` drops attention weights
    (always, as PyTorch's function does: pass 0.0 in evaluation).
    ``enable_gqa`` repeats each key and value head to match the query's heads.

    Built from differentiable ops (matmul, add, softmax, where), so the
    gradient needs no rule of its own and no loop over heads or positions;
    the softmax is shifted by each row's maximum, so nothing overflows, and a
    blocked position gets exactly 0 weight. A query that may attend nowhere
    gets an output of zeros and zero gradients, as PyTorch's function gives.
    """
    return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)[0]


# ------------------------------------------------------------------ losses
def binary_cross_entropy_with_logits(
    input: TensorLike,
    target: Any,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """Sigmoid then binary cross-entropy, in one stable formula.

    ``loss = (1 - y) x + (1 + (w - 1) y) softplus(-x)`` with ``w = pos_weight``
    (1 by default), equal to ``-[w y log σ(x) + (1 - y) log(1 - σ(x))]``
    without ever forming ``log σ(x)``.
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    if _shape(input) != _shape(target):
        raise ShapeError(
            f"binary_cross_entropy_with_logits: input of shape {_shape(input)} and target of "
            f"shape {_shape(target)} must have the same shape"
        )
    x = _t(input)
    y: Any = (target if isinstance(target, Tensor)
              else backend.array_of(target).astype(x.data.dtype, copy=False))
    sp = _t(softplus(-x))
    if pos_weight is not None:
        w = pos_weight.data if isinstance(pos_weight, Tensor) else backend.array_of(pos_weight)
        sp = sp * (1 + (w - 1) * y)
    return _reduce((1 - y) * x + sp, reduction, "binary_cross_entropy_with_logits")
