"""Pooling: the maximum or the mean over each window of ``(N, C, H, W)`` images.

``max_pool2d`` and ``avg_pool2d`` are also in ``nn.functional``; ``MaxPool2d``
and ``AvgPool2d`` are the layers, with PyTorch's arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule.engine import Tensor
from chainrule.engine.functions import unfold2d
from chainrule.errors import ShapeError
from chainrule.nn.module import Module
from chainrule.nn.params import IntPair, pair

from ..backend import xp as np  # the array library, through the one seam

TensorLike = Any  # a Tensor, or anything ``cr.tensor`` accepts


def _t(x: TensorLike) -> Any:
    return x if isinstance(x, Tensor) else Tensor(x)


def max_pool2d(
    x: TensorLike,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
) -> Tensor:
    """The maximum over each ``kernel_size`` window of ``(N, C, H, W)`` inputs.

    ``stride`` defaults to ``kernel_size``; padding counts as -inf, so it is
    never the maximum. The gradient goes to the window's maximum (shared
    equally if several elements tie). Windows that tile the image (stride =
    kernel) are exposed by a reshape; overlapping ones by ``cr.unfold2d``.
    """
    x = _t(x)
    if x.ndim != 4:
        raise ShapeError(f"max_pool2d: expected input of shape (N, C, H, W), got {x.shape}")
    k = pair(kernel_size, "kernel_size", "max_pool2d")
    s = k if stride is None else pair(stride, "stride", "max_pool2d")
    p = pair(padding, "padding", "max_pool2d")
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"max_pool2d: padding {p} must be at most half the kernel size {k}")
    if p != (0, 0):
        x = x.pad(((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), value=-np.inf)
    n, c, h, w = x.data.shape
    ho, wo = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    if s == k:
        # windows tile the image: a reshape exposes them, with no copy of the
        # input; putting the window axes first makes max a fast outer reduction
        if (h, w) != (ho * k[0], wo * k[1]):
            x = x[:, :, : ho * k[0], : wo * k[1]]
        tiles = x.reshape(n, c, ho, k[0], wo, k[1]).permute(3, 5, 0, 1, 2, 4)
        return tiles.reshape(k[0] * k[1], n, c, ho, wo).max(axis=0)
    cols = _t(unfold2d(x, k, s))  # overlapping windows: (N, C*kh*kw, L)
    return cols.reshape(n, c, k[0] * k[1], ho * wo).max(axis=2).reshape(n, c, ho, wo)


def avg_pool2d(
    x: TensorLike,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean over each ``kernel_size`` window of ``(N, C, H, W)`` inputs.

    ``stride`` defaults to ``kernel_size``; padding adds zeros, which count in
    the mean unless ``count_include_pad=False``; ``divisor_override`` divides
    each window's sum by that number instead. Each input gets back the
    gradient of every window it is in, divided by that window's divisor.
    """
    x = _t(x)
    if x.ndim != 4:
        raise ShapeError(f"avg_pool2d: expected input of shape (N, C, H, W), got {x.shape}")
    if ceil_mode:
        raise ValueError("avg_pool2d: ceil_mode=True is not supported; pad the input instead")
    k = pair(kernel_size, "kernel_size", "avg_pool2d")
    s = k if stride is None else pair(stride, "stride", "avg_pool2d")
    p = pair(padding, "padding", "avg_pool2d")
    if min(k) < 1 or min(s) < 1 or p[0] > k[0] // 2 or p[1] > k[1] // 2 or min(p) < 0:
        raise ValueError(
            f"avg_pool2d: kernel_size {k} and stride {s} must be >= 1 and padding {p} between "
            "0 and half the kernel size"
        )
    if divisor_override is not None and (isinstance(divisor_override, bool) or
                                         not isinstance(divisor_override, int) or
                                         divisor_override < 1):
        raise ValueError(f"avg_pool2d: divisor_override must be an int >= 1, got "
                         f"{divisor_override!r}")
    n, c, h, w = x.data.shape
    pads = ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1]))
    if p != (0, 0):
        x = x.pad(pads)
    ho, wo = (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1
    if ho < 1 or wo < 1:
        raise ShapeError(f"avg_pool2d: kernel {k} is larger than the padded input {x.shape}")
    if s == k:  # windows tile the image: a reshape exposes them
        tiles = x[:, :, : ho * k[0], : wo * k[1]].reshape(n, c, ho, k[0], wo, k[1])
        sums = tiles.sum(axis=(3, 5))
    else:
        cols = _t(unfold2d(x, k, s))  # (N, C*kh*kw, L)
        sums = cols.reshape(n, c, k[0] * k[1], ho * wo).sum(axis=2).reshape(n, c, ho, wo)
    if divisor_override is not None:
        return sums / divisor_override
    if count_include_pad or p == (0, 0):
        return sums / (k[0] * k[1])
    # the number of real (not padded) elements in each window
    inside = np.pad(np.ones((h, w), dtype=x.data.dtype), pads[2:])
    counts = np.lib.stride_tricks.sliding_window_view(inside, k)[:: s[0], :: s[1]].sum((2, 3))
    return sums / counts[:ho, :wo]


class MaxPool2d(Module):
    """The maximum over each window; ``stride`` defaults to ``kernel_size``."""

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """The mean over each window; ``stride`` defaults to ``kernel_size``.

    Zero padding counts in the mean unless ``count_include_pad=False``, as in
    PyTorch; ``divisor_override`` divides each window's sum by that number.
    """

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        if ceil_mode:
            raise ValueError("AvgPool2d: ceil_mode=True is not supported; pad the input instead")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
