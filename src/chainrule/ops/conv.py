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
from ..tensor import Op, Tensor, apply
from ._util import operand

Pair = tuple[int, int]


unfold_op = Op(
    "unfold2d",
    backend.unfold2d,
    (lambda m, g, y, x, kernel, stride, padding: m.fold2d(
        g, x.shape[-2:], kernel, stride, padding),),
    lambda m, t, y, x, kernel, stride, padding: m.unfold2d(t[0], kernel, stride, padding),
)
fold_op = Op(
    "fold2d",
    backend.fold2d,
    (lambda m, g, y, c, size, kernel, stride, padding: m.unfold2d(g, kernel, stride, padding),),
    lambda m, t, y, c, size, kernel, stride, padding: m.fold2d(t[0], size, kernel, stride,
                                                               padding),
)


def _pair(v: Any, name: str, where: str, minimum: int) -> Pair:
    p = (v, v) if isinstance(v, int) else tuple(v)
    if len(p) != 2 or not all(isinstance(i, int) and i >= minimum for i in p):
        raise ValueError(
            f"{where}: {name} must be an int >= {minimum} or a pair of them, got {v!r}"
        )
    return (int(p[0]), int(p[1]))


def unfold2d(x: Any, kernel_size: Any, stride: Any = 1, padding: Any = 0) -> Tensor:
    """Every ``kernel_size`` window of ``x`` (N, C, H, W) as a column: (N, C·kh·kw, L).

    The layout matches ``torch.nn.functional.unfold``; with it a convolution is
    ``weight.reshape(out, -1) @ unfold2d(x, k)``.
    """
    x = operand(x, "unfold2d")
    shape = x.shape
    if len(shape) < 3:
        raise ShapeError(f"unfold2d: expected (N, C, H, W) or (C, H, W), got shape {shape}")
    k = _pair(kernel_size, "kernel_size", "unfold2d", 1)
    s = _pair(stride, "stride", "unfold2d", 1)
    p = _pair(padding, "padding", "unfold2d", 0)
    ho, wo = backend.conv_out_size(shape[-2:], k, s, p)
    if ho < 1 or wo < 1:
        raise ShapeError(
            f"unfold2d: a {k} kernel does not fit an input of spatial size {shape[-2:]} "
            f"with padding {p}"
        )
    return apply(unfold_op, x, kernel=k, stride=s, padding=p)


def fold2d(cols: Any, output_size: Any, kernel_size: Any, stride: Any = 1,
           padding: Any = 0) -> Tensor:
    """The adjoint of ``unfold2d``: add columns (N, C·kh·kw, L) back into (N, C, H, W)."""
    size = _pair(output_size, "output_size", "fold2d", 1)
    k = _pair(kernel_size, "kernel_size", "fold2d", 1)
    s = _pair(stride, "stride", "fold2d", 1)
    p = _pair(padding, "padding", "fold2d", 0)
    cols = operand(cols, "fold2d")
    shape = cols.shape
    ho, wo = backend.conv_out_size(size, k, s, p)
    if len(shape) < 2 or shape[-2] % (k[0] * k[1]) or shape[-1] != ho * wo:
        raise ShapeError(
            f"fold2d: columns of shape {shape} do not fit kernel {k} over output {size} "
            f"(expected (..., C*{k[0] * k[1]}, {ho * wo}))"
        )
    return apply(fold_op, cols, size=size, kernel=k, stride=s, padding=p)
