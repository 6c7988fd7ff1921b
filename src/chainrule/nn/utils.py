"""Gradient clipping, as in ``torch.nn.utils``: call after ``backward()``, before ``step()``.

>>> loss.backward()                                                     # doctest: +SKIP
>>> total = cr.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # doctest: +SKIP
>>> opt.step()                                                           # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from chainrule.engine import Tensor

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
    dtype = np.result_type(*grads)
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isinf(norm_type):
            total = max(np.max(np.abs(g)) if g.size else 0.0 for g in grads)
        else:
            norms = [np.linalg.norm(g.ravel(), ord=norm_type) for g in grads]
            total = np.linalg.norm(np.array(norms), ord=norm_type)
    total = np.asarray(total, dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise FloatingPointError(
            f"{where}: the total norm of order {norm_type:g} of the gradients is {float(total)}; "
            "they cannot be clipped (pass error_if_nonfinite=False to clip anyway)"
        )
    coef = min(max_norm / (float(total) + 1e-6), 1.0)
    for g in grads:
        g *= g.dtype.type(coef)
    return Tensor(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element, in place, to ``[-clip_value, clip_value]``."""
    where = "clip_grad_value_"
    clip_value = _number(where, "clip_value", clip_value)
    if not clip_value >= 0:
        raise ValueError(f"{where}: clip_value must be >= 0, got {clip_value!r}")
    for g in _grads(parameters, where):
        np.clip(g, -clip_value, clip_value, out=g)
