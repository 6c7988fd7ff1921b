"""Layers and losses as plain functions of Tensors (``import chainrule.nn.functional as F``).

Everything here is composed from the engine's differentiable ops, so
gradients, and gradients of gradients, come for free. Signatures and
conventions follow ``torch.nn.functional``: ``dim`` for the class axis,
``reduction='mean' | 'sum' | 'none'`` for losses, class-index targets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chainrule.engine import Tensor, no_grad
from chainrule.engine.factories import generator as _default_generator
from chainrule.engine.functions import erf as erf_
from chainrule.engine.functions import maximum as maximum_
from chainrule.engine.functions import unfold2d
from chainrule.engine.functions import where as where_
from chainrule.engine.record import apply as _apply
from chainrule.errors import ShapeError
from chainrule.nn.params import IntPair, check_input_dtype
from chainrule.nn.params import pair as _pair
from chainrule.nn.pooling import avg_pool2d, max_pool2d  # noqa: F401  (F.max_pool2d, ...)
from chainrule.ops import linalg as _linalg_ops
from chainrule.ops import reduce as _reduce_ops

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
    if bias is None:
        return _t(x) @ _t(weight).T
    return _apply(_linalg_ops.linear, _t(x), _t(weight), bias)


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
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    n = weight.data.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings")
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


# ------------------------------------------------------------------ losses
_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: TensorLike, reduction: str, where: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{where}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_reduction(reduction: str, where: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{where}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def mse_loss(input: TensorLike, target: Any, reduction: str = "mean") -> Tensor:
    """Squared error ``(input - target)²``, averaged (or summed) over every element."""
    _check_reduction(reduction, "mse_loss")
    if _shape(input) != _shape(target):
        raise ShapeError(
            f"mse_loss: input of shape {_shape(input)} and target of shape {_shape(target)} "
            "must have the same shape"
        )
    diff = _t(input) - target
    return _reduce(diff * diff, reduction, "mse_loss")


def _class_indices(target: Any, n_classes: int, batch_shape: tuple[int, ...], where: str) -> Any:
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{where}: target must hold integer class indices, got dtype {t.dtype} "
            "(convert with .astype(int64))"
        )
    if t.shape != batch_shape:
        raise ShapeError(
            f"{where}: target of shape {t.shape} does not fit input of batch shape "
            f"{batch_shape} (expected one class index per sample)"
        )
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        bad = int(t.min()) if t.min() < 0 else int(t.max())
        raise IndexError(f"{where}: target {bad} is out of range for {n_classes} classes")
    return t


def nll_loss(input: TensorLike, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: ``-input[n, target[n]]`` for log-probabilities ``input``.

    ``input`` has shape ``(N, C)`` or ``(N, C, d1, ...)`` with classes on
    axis 1; ``target`` holds class indices of shape ``(N,)`` or
    ``(N, d1, ...)``.
    """
    _check_reduction(reduction, "nll_loss")
    input = _t(input)
    shape = input.data.shape
    if input.ndim < 2:
        raise ShapeError(f"nll_loss: expected input of shape (N, C, ...), got {shape}")
    t = _class_indices(target, shape[1], shape[:1] + shape[2:], "nll_loss")
    grids = np.indices(t.shape, sparse=True)
    picked = input[(grids[0], t) + tuple(grids[1:])]
    return _reduce(-picked, reduction, "nll_loss")


def cross_entropy(input: TensorLike, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of logits ``input`` (N, C, ...) and class indices ``target``.

    ``nll_loss(log_softmax(input, dim=1), target)``, stable for any logits.
    A floating ``target`` of the input's shape is read as class probabilities.
    For ``(N, C)`` logits and class indices it is a single op, whose
    gradient is ``softmax(input) - one_hot(target)`` (over N for the mean).
    """
    _check_reduction(reduction, "cross_entropy")
    input = _t(input)
    if input.ndim < 2:
        raise ShapeError(f"cross_entropy: expected input of shape (N, C, ...), got {input.shape}")
    t_arr = target.data if isinstance(target, Tensor) else np.asarray(target)
    if input.ndim == 2 and t_arr.dtype.kind != "f":  # the everyday case: one fused op
        shape = input.data.shape
        t = _class_indices(t_arr, shape[1], shape[:1], "cross_entropy")
        return _apply(_reduce_ops.cross_entropy, input, target=t, reduction=reduction)
    logp = input.log_softmax(1)
    if t_arr.dtype.kind == "f":
        if t_arr.shape != input.data.shape:
            raise ShapeError(
                f"cross_entropy: probability target of shape {t_arr.shape} must have the "
                f"input's shape {input.shape}"
            )
        return _reduce(-(logp * target).sum(axis=1), reduction, "cross_entropy")
    return nll_loss(logp, target, reduction)


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
    y: Any = target if isinstance(target, Tensor) else np.asarray(target, dtype=x.data.dtype)
    sp = _t(softplus(-x))
    if pos_weight is not None:
        w = pos_weight.data if isinstance(pos_weight, Tensor) else np.asarray(pos_weight)
        sp = sp * (1 + (w - 1) * y)
    return _reduce((1 - y) * x + sp, reduction, "binary_cross_entropy_with_logits")
