"""Batch normalisation: ``BatchNorm1d`` over ``(N, C)`` / ``(N, C, L)``, ``BatchNorm2d`` over
``(N, C, H, W)``, per channel C, with PyTorch's parameters, buffers and update rule."""

from __future__ import annotations

from numpy.typing import DTypeLike

from chainrule.engine import Tensor
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.params import check_input_dtype, check_positive, new_param

from ..backend import xp as np  # the array library, through the one seam


class _BatchNorm(Module):
    """What both batch norms share; subclasses say which input ranks they take."""

    _ranks: tuple[int, ...] = ()
    _shapes: str = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        check_positive(name, num_features=num_features)
        if not eps > 0:
            raise ValueError(f"{name}: eps must be > 0, got {eps!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        weight = new_param((num_features,), dtype)
        dt = weight.data.dtype  # the running statistics share the parameters' dtype
        self.register_parameter("weight", init.ones_(weight) if affine else None)
        self.register_parameter("bias", new_param((num_features,), dtype) if affine else None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dt))
            self.register_buffer("running_var", np.ones(num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape if isinstance(x, Tensor) else np.shape(x)
        if len(shape) not in self._ranks or shape[1] != self.num_features:
            shapes = self._shapes.replace("C", str(self.num_features))
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected input of shape {shapes}, "
                f"got {tuple(shape)}"
            )
        weight, running_mean = self.weight, self.running_mean
        reference = weight if weight is not None else running_mean
        if reference is not None:
            what = "weight" if weight is not None else "running_mean"
            check_input_dtype(self, x, reference, what)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data[...] += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch_stats = self.training or running_mean is None
        return F.batch_norm(
            x, running_mean, self.running_var, weight, self.bias, use_batch_stats, factor, self.eps
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` inputs, per feature C.

    Buffers ``running_mean``, ``running_var`` and ``num_batches_tracked`` are
    in ``state_dict()`` under PyTorch's names. ``momentum=None`` keeps a
    cumulative average of the batch statistics instead of an exponential one.
    """

    _ranks = (2, 3)
    _shapes = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images ``(N, C, H, W)``, per channel C, over N, H and W.

    In training the batch's mean and (biased) variance over ``N·H·W`` values
    normalise each channel; the running statistics are updated with the
    unbiased variance, as in PyTorch. In eval mode the running ones are used.
    """

    _ranks = (4,)
    _shapes = "(N, C, H, W)"
