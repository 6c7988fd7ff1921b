"""The loss functions of ``nn.functional``: squared error, negative log-likelihood and
softmax cross-entropy, with PyTorch's ``reduction`` and ``ignore_index``.

``import chainrule.nn.functional as F`` gives them all (``F.cross_entropy``,
...); the loss layers (``nn.CrossEntropyLoss``, ...) are in ``nn/loss.py``.
"""

from __future__ import annotations

from typing import Any

from chainrule import backend
from chainrule.engine import Tensor
from chainrule.engine.functions import where as where_
from chainrule.engine.record import apply as _apply
from chainrule.errors import ShapeError
from chainrule.ops import reduce as _reduce_ops

from ..backend import xp as np  # the array library, through the one seam

TensorLike = Any  # a Tensor, or anything ``cr.tensor`` accepts
REDUCTIONS = ("mean", "sum", "none")


def _t(x: TensorLike) -> Any:
    return x if isinstance(x, Tensor) else Tensor(x)


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.data.shape if isinstance(x, Tensor) else np.shape(x))


def reduce_loss(loss: TensorLike, reduction: str, where: str) -> Tensor:
    """``loss`` averaged, summed, or as it is (``'mean' | 'sum' | 'none'``)."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{where}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def check_reduction(reduction: str, where: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def mse_loss(input: TensorLike, target: Any, reduction: str = "mean") -> Tensor:
    """Squared error ``(input - target)²``, averaged (or summed) over every element."""
    check_reduction(reduction, "mse_loss")
    if _shape(input) != _shape(target):
        raise ShapeError(
            f"mse_loss: input of shape {_shape(input)} and target of shape {_shape(target)} "
            "must have the same shape"
        )
    diff = _t(input) - target
    return reduce_loss(diff * diff, reduction, "mse_loss")


def _class_indices(
    target: Any,
    n_classes: int,
    batch_shape: tuple[int, ...],
    where: str,
    ignore_index: int | None = None,
) -> tuple[Any, Any]:
    """The targets as an integer array (on the device they came on), and a boolean
    mask of the ones to count.

    The mask is None when every target counts (none equals ``ignore_index``).
    A target equal to ``ignore_index`` may lie outside ``[0, n_classes)``. On a
    GPU the mask is kept whatever it holds: finding out would make the host wait.
    """
    t = target.data if isinstance(target, Tensor) else target
    if not backend.is_array(t):
        t = np.asarray(t)
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
    keep = None
    if ignore_index is not None:
        keep = t != ignore_index
        if not backend.on_device(keep) and keep.all():
            keep = None
    counted = t if keep is None else backend.namespace(t).where(keep, t, 0)
    also = f" (and is not ignore_index={ignore_index})" if ignore_index is not None else ""
    backend.check_range(counted, 0, n_classes,
                        f"{where}: target {{}} is out of range for {n_classes} classes{also}")
    return t, keep


def _masked_reduce(losses: Tensor, keep: Any, reduction: str, where: str) -> Tensor:
    """``losses`` where ``keep``, 0 elsewhere, then reduced; 'mean' is over the kept
    ones. Selecting the kept rows instead (``losses[keep]``) would make a GPU wait
    for the host to learn how many there are."""
    kept = where_(keep, losses, 0.0)
    if reduction == "mean":
        return kept.sum() / keep.sum().astype(kept.data.dtype)
    return reduce_loss(kept, reduction, where)


def nll_loss(
    input: TensorLike, target: Any, reduction: str = "mean", ignore_index: int = -100
) -> Tensor:
    """Negative log-likelihood: ``-input[n, target[n]]`` for log-probabilities ``input``.

    ``input`` has shape ``(N, C)`` or ``(N, C, d1, ...)`` with classes on
    axis 1; ``target`` holds class indices of shape ``(N,)`` or
    ``(N, d1, ...)``. Targets equal to ``ignore_index`` count for nothing:
    'mean' averages over the others (NaN if there are none, as in PyTorch),
    'none' gives 0 in their place.
    """
    check_reduction(reduction, "nll_loss")
    input = _t(input)
    shape = input.data.shape
    if input.ndim < 2:
        raise ShapeError(f"nll_loss: expected input of shape (N, C, ...), got {shape}")
    t, keep = _class_indices(target, shape[1], shape[:1] + shape[2:], "nll_loss", ignore_index)
    xp = backend.namespace(t)
    if keep is not None:
        t = xp.where(keep, t, 0)  # any class: these picks are dropped below
    grids = xp.indices(t.shape, sparse=True)
    picked = input[(grids[0], t) + tuple(grids[1:])]
    if keep is None:
        return reduce_loss(-picked, reduction, "nll_loss")
    if reduction == "none":
        return where_(keep, -picked, 0.0)
    if backend.on_device(keep):
        return _masked_reduce(-picked, keep, reduction, "nll_loss")
    return reduce_loss(-picked[keep], reduction, "nll_loss")


def cross_entropy(
    input: TensorLike, target: Any, reduction: str = "mean", ignore_index: int = -100
) -> Tensor:
    """Softmax cross-entropy of logits ``input`` (N, C, ...) and class indices ``target``.

    ``nll_loss(log_softmax(input, dim=1), target)``, stable for any logits.
    A floating ``target`` of the input's shape is read as class probabilities.
    For ``(N, C)`` logits and class indices it is a single op, whose
    gradient is ``softmax(input) - one_hot(target)`` (over N for the mean).

    Targets equal to ``ignore_index`` (-100, as in PyTorch) are left out, as
    padding is in a batch of sequences of different lengths: the rows they
    name are selected away before the fused op, so 'mean' is the mean over
    the other targets and their logits get a zero gradient.
    """
    check_reduction(reduction, "cross_entropy")
    input = _t(input)
    if input.ndim < 2:
        raise ShapeError(f"cross_entropy: expected input of shape (N, C, ...), got {input.shape}")
    t_arr = target.data if isinstance(target, Tensor) else target
    if not backend.is_array(t_arr):
        t_arr = np.asarray(t_arr)
    if input.ndim == 2 and t_arr.dtype.kind != "f":  # the everyday case: one fused op
        shape = input.data.shape
        t, keep = _class_indices(t_arr, shape[1], shape[:1], "cross_entropy", ignore_index)
        if keep is None:
            return _apply(_reduce_ops.cross_entropy, input, target=t, reduction=reduction)
        if reduction == "none" or backend.on_device(keep):
            safe = backend.namespace(t).where(keep, t, 0)
            losses = _apply(_reduce_ops.cross_entropy, input, target=safe, reduction="none")
            if reduction == "none":
                return where_(keep, losses, 0.0)
            return _masked_reduce(losses, keep, reduction, "cross_entropy")
        return _apply(_reduce_ops.cross_entropy, input[keep], target=t[keep], reduction=reduction)
    logp = input.log_softmax(1)
    if t_arr.dtype.kind == "f":
        if t_arr.shape != input.data.shape:
            raise ShapeError(
                f"cross_entropy: probability target of shape {t_arr.shape} must have the "
                f"input's shape {input.shape}"
            )
        return reduce_loss(-(logp * target).sum(axis=1), reduction, "cross_entropy")
    return nll_loss(logp, target, reduction, ignore_index)
