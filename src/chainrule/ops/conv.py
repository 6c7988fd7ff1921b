"""Sliding windows for convolution and pooling.

``unfold2d`` copies every kernel window of an image into a column (im2col),
so a convolution becomes one matrix product; ``fold2d`` is its adjoint: it
adds each column back into the window it came from. Each is the other's
derivative, and both are linear, so their tangent rules are themselves.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..errors import ShapeError
from .op import Op, register

Pair = tuple[int, int]


unfold2d = Op(
    "unfold2d",
    backend.unfold2d,
    (lambda m, g, y, x, kernel, stride, padding: m.fold2d(
        g, x.shape[-2:], kernel, stride, padding),),
    lambda m, t, y, x, kernel, stride, padding: m.unfold2d(t[0], kernel, stride, padding),
    formula="cols = every kernel window of x as a column;  ∂L/∂x = fold2d(G): each column "
            "added back into its window",
    saves=(),
)
fold2d = Op(
    "fold2d",
    backend.fold2d,
    (lambda m, g, y, c, size, kernel, stride, padding: m.unfold2d(g, kernel, stride, padding),),
    lambda m, t, y, c, size, kernel, stride, padding: m.fold2d(t[0], size, kernel, stride,
                                                               padding),
    formula="y = columns added back into their windows;  ∂L/∂cols = unfold2d(G)",
    saves=(),
)
register("unfold2d", unfold2d, function="unfold2d", family="conv")
register("fold2d", fold2d, function="fold2d", family="conv")


def _pair(v: Any, name: str, where: str, minimum: int) -> Pair:
    p = (v, v) if isinstance(v, int) else tuple(v)
    if len(p) != 2 or not all(isinstance(i, int) and i >= minimum for i in p):
        raise ValueError(
            f"{where}: {name} must be an int >= {minimum} or a pair of them, got {v!r}"
        )
    return (int(p[0]), int(p[1]))


def unfold_params(shape: tuple[int, ...], kernel_size: Any, stride: Any, padding: Any
                  ) -> tuple[Pair, Pair, Pair]:
    """``unfold2d``'s arguments, checked against an input of ``shape`` (N, C, H, W)."""
    if len(shape) < 3:
        raise ShapeError(f"unfold2d: expected (N, C, H, W) or (C, H, W), got shape {shape}")
    k = _pair(kernel_size, "kernel_size", "unfold2d", 1)
    s = _pair(stride, "stride", "unfold2d", 1)
    p = _pair(padding, "padding", "unfold2d", 0)
    ho, wo = backend.conv_out_size((shape[-2], shape[-1]), k, s, p)
    if ho < 1 or wo < 1:
        raise ShapeError(
            f"unfold2d: a {k} kernel does not fit an input of spatial size {shape[-2:]} "
            f"with padding {p}"
        )
    return k, s, p


def fold_params(shape: tuple[int, ...], output_size: Any, kernel_size: Any, stride: Any,
                padding: Any) -> tuple[Pair, Pair, Pair, Pair]:
    """``fold2d``'s arguments, checked against columns of ``shape`` (N, C·kh·kw, L)."""
    size = _pair(output_size, "output_size", "fold2d", 1)
    k = _pair(kernel_size, "kernel_size", "fold2d", 1)
    s = _pair(stride, "stride", "fold2d", 1)
    p = _pair(padding, "padding", "fold2d", 0)
    ho, wo = backend.conv_out_size(size, k, s, p)
    if len(shape) < 2 or shape[-2] % (k[0] * k[1]) or shape[-1] != ho * wo:
        raise ShapeError(
            f"fold2d: columns of shape {shape} do not fit kernel {k} over output {size} "
            f"(expected (..., C*{k[0] * k[1]}, {ho * wo}))"
        )
    return size, k, s, p
