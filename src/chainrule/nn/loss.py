"""Loss modules: thin wrappers over the functions in ``chainrule.nn.functional``.

Each takes ``reduction='mean' | 'sum' | 'none'`` and is called as
``loss_fn(input, target)``.
"""

from __future__ import annotations

from typing import Any

from chainrule.engine import Tensor
from chainrule.nn import functional as F
from chainrule.nn.module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error ``(input - target)²``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class _ClassLoss(_Loss):
    """A loss over class indices, some of which may be ``ignore_index`` (padding)."""

    def __init__(self, reduction: str = "mean", ignore_index: int = -100) -> None:
        super().__init__(reduction)
        self.ignore_index = ignore_index

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, ignore_index={self.ignore_index}"


class CrossEntropyLoss(_ClassLoss):
    """Softmax cross-entropy of logits ``(N, C, ...)`` against class indices ``(N, ...)``.

    Targets equal to ``ignore_index`` (-100) are left out; 'mean' averages over the others.
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.reduction, self.ignore_index)


class NLLLoss(_ClassLoss):
    """Negative log-likelihood of log-probabilities ``(N, C, ...)`` and class indices.

    Targets equal to ``ignore_index`` (-100) are left out; 'mean' averages over the others.
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.reduction, self.ignore_index)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits (a sigmoid built in, computed stably)."""

    def __init__(self, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self.pos_weight = pos_weight

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.reduction, self.pos_weight)
