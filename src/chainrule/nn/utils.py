"""Gradient clipping, as in ``torch.nn.utils``: call after ``backward()``, before ``step()``.

>>> loss.backward()                                                     # doctest: +SKIP
>>> total = cr.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # doctest: +SKIP
>>> opt.step()                                                           # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from chainrule import backend
from chainrule.engine import Tensor
from chainrule.errors import DeviceError

from ..backend import xp as np  # the array library, through the one seam


def _grads(parameters: Tensor | Iterable[Tensor], where: str) -> list[Any]:
    """The gradient arrays of ``parameters`` (a Tensor or an iterable), skipping None."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}: parameter {i} is a {type(p).__name__}, not a Tensor")
    return [p.grad.data for p in params if p.grad is not None]


def _number(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: {name} must be a number, got {value!r}")
    return float(value)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together, in place, so that their joint norm is at most ``max_norm``.

    The norm is taken over every gradient as if they were one vector
    (``norm_type`` 2 by default; ``float("inf")`` for the largest absolute
    value). Each gradient is multiplied by ``min(1, max_norm / (norm + 1e-6))``,
    PyTorch's formula. Returns the total norm before clipping, as a
    0-dimensional Tensor. A NaN or infinite norm raises ``FloatingPointError``
    when ``error_if_nonfinite=True``.
    """
    where = "clip_grad_norm_"
    max_norm = _number(where, "max_norm", max_norm)
    norm_type = _number(where, "norm_type", norm_type)
    if not max_norm >= 0:
        raise ValueError(f"{where}: max_norm must be >= 0, got {max_norm!r}")
    if not norm_type > 0:
        raise ValueError(f"{where}: norm_type must be > 0 (or inf), got {norm_type!r}")
    grads = _grads(parameters, where)
    if not grads:
        return Tensor(np.array(0.0))
    devices = sorted({backend.device_of(g) for g in grads})
    if len(devices) > 1:
        raise DeviceError(f"{where}: the gradients are on {' and '.join(devices)}; nothing "
                          "moves between devices by itself: put the model on one device "
                          "(model.to(...))")
    dtype = np.result_type(*(g.dtype for g in grads))
    # everything stays on the gradients' device: no host read unless asked to check
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isinf(norm_type):
            norms = [np.abs(g).max() for g in grads if g.size]
            total = np.stack(norms).max() if norms else backend.zeros_of((), dtype, grads[0])
        else:
            total = _norm(np.stack([_norm(g, norm_type) for g in grads]), norm_type)
        total = total.astype(dtype)
        if error_if_nonfinite and not np.isfinite(total):  # reads the norm: a host sync
            raise FloatingPointError(
                f"{where}: the total norm of order {norm_type:g} of the gradients is "
                f"{float(total)}; they cannot be clipped (pass error_if_nonfinite=False to "
                "clip anyway)"
            )
        coef = np.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= coef.astype(g.dtype)
    return Tensor(total)


def _norm(x: Any, p: float) -> Any:
    """The ``p``-norm of all of ``x``'s entries, as a 0-d array of ``x``'s library."""
    if p == 2:
        return np.sqrt(np.sum(x * x))
    if p == 1:
        return np.sum(np.abs(x))
    return np.sum(np.abs(x) ** p) ** (1.0 / p)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element, in place, to ``[-clip_value, clip_value]``."""
    where = "clip_grad_value_"
    clip_value = _number(where, "clip_value", clip_value)
    if not clip_value >= 0:
        raise ValueError(f"{where}: clip_value must be >= 0, got {clip_value!r}")
    for g in _grads(parameters, where):
        np.clip(g, -clip_value, clip_value, out=g)
