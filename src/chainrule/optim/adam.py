"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

import math
from typing import Any

from chainrule.optim.optimizer import (
    Array,
    Optimizer,
    ParamGroup,
    ParamsArg,
    check_at_least,
    check_unit_interval,
)

from ..backend import xp as np  # the array library, through the one seam


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), with PyTorch's update equations.

    For each parameter :math:`p` with gradient :math:`g`, at step :math:`t = 1, 2, ...`::

        g = g + weight_decay * p                       (L2 penalty, if weight_decay != 0)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        v_max = max(v_max, v)                          (if amsgrad; then v_max replaces v)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    :class:`AdamW` instead shrinks ``p`` by ``(1 - lr * weight_decay)`` and
    leaves ``g`` alone.
    """

    _decoupled = False

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        super().__init__(params, defaults)

    def _check(self, group: ParamGroup) -> None:
        super()._check(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{self._name}: betas must be a pair (beta1, beta2), got {betas!r}")
        check_unit_interval(self._name, "betas[0]", betas[0])
        check_unit_interval(self._name, "betas[1]", betas[1])
        check_at_least(self._name, "eps", group["eps"], 0.0)
        check_at_least(self._name, "weight_decay", group["weight_decay"], 0.0)

    def _update(self, param: Array, grad: Array, state: dict[str, Any], group: ParamGroup) -> None:
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        t = state["step"]
        if wd != 0:
            if self._decoupled:
                param *= 1 - lr * wd
            else:
                grad = grad + wd * param
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * np.square(grad)
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        # Python floats, so that float32 arrays stay float32
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = math.sqrt(1 - beta2**t)
        # step = m / (sqrt(v) / sqrt(bc2) + eps), built in one scratch array
        step = np.sqrt(v)
        step /= bias_correction2_sqrt
        step += eps
        np.divide(m, step, out=step)
        step *= step_size
        param -= step


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Same as :class:`Adam` except that weight decay is not added to the
    gradient: each step first does ``p = p * (1 - lr * weight_decay)``.
    The default ``weight_decay`` is 0.01, as in PyTorch.
    """

    _decoupled = True

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
