"""RMSprop: divide each step by a running root-mean-square of the gradients."""

from __future__ import annotations

from typing import Any

from chainrule.optim.optimizer import Array, Optimizer, ParamGroup, ParamsArg, check_at_least

from ..backend import xp as np  # the array library, through the one seam


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture notes), with PyTorch's update equations.

    For each parameter :math:`p` with gradient :math:`g`::

        g = g + weight_decay * p                       (if weight_decay != 0)
        s = alpha * s + (1 - alpha) * g**2
        a = alpha * a + (1 - alpha) * g                (if centered)
        d = sqrt(s - a**2) + eps   if centered   else   d = sqrt(s) + eps
        b = momentum * b + g / d;  p = p - lr * b      (if momentum > 0)
        p = p - lr * g / d                             (otherwise)
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
        )
        super().__init__(params, defaults)

    def _check(self, group: ParamGroup) -> None:
        super()._check(group)
        for name in ("alpha", "eps", "weight_decay", "momentum"):
            check_at_least("RMSprop", name, group[name], 0.0)

    def _update(self, param: Array, grad: Array, state: dict[str, Any], group: ParamGroup) -> None:
        alpha, momentum, wd = group["alpha"], group["momentum"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        if wd != 0:
            grad = grad + wd * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * (grad * grad)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = np.sqrt(square_avg) + group["eps"]
        if momentum > 0:
            buf = state.setdefault("momentum_buffer", np.zeros_like(param))
            buf *= momentum
            buf += grad / avg
            param -= group["lr"] * buf
        else:
            param -= group["lr"] * (grad / avg)
