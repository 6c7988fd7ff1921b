"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

from chainrule.optim.optimizer import Array, Optimizer, ParamGroup, ParamsArg, check_at_least


class SGD(Optimizer):
    r"""Stochastic gradient descent, with PyTorch's update equations.

    For each parameter :math:`p` with gradient :math:`g`, at step :math:`t`::

        g = g + weight_decay * p                       (if weight_decay != 0)
        b = g                                          (first step)
        b = momentum * b + (1 - dampening) * g         (later steps)
        g = g + momentum * b   if nesterov   else   g = b     (if momentum != 0)
        p = p - lr * g

    Example
    -------
    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)      # doctest: +SKIP
    >>> opt.zero_grad(); loss.backward(); opt.step()              # doctest: +SKIP
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
        )
        super().__init__(params, defaults)

    def _check(self, group: ParamGroup) -> None:
        super()._check(group)
        check_at_least("SGD", "momentum", group["momentum"], 0.0)
        check_at_least("SGD", "weight_decay", group["weight_decay"], 0.0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _update(self, param: Array, grad: Array, state: dict[str, Any], group: ParamGroup) -> None:
        momentum, wd = group["momentum"], group["weight_decay"]
        if wd != 0:
            grad = grad + wd * param
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.astype(param.dtype, copy=True)
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= group["lr"] * grad
