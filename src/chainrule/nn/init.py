"""Weight initialisation, in place, drawing from chainrule's seeded generator.

``cr.manual_seed(s)`` makes every layer built afterwards start from the same
weights. Each function also takes ``generator=`` (a ``numpy.random.Generator``)
to draw from instead. The formulas are PyTorch's, so a layer's default
weights have the same distribution as in PyTorch (not the same numbers).
"""

from __future__ import annotations

import math
from typing import TypeVar

from chainrule.engine import Tensor
from chainrule.engine.factories import generator as _default_generator

from ..backend import xp as np  # the array library, through the one seam

T = TypeVar("T", bound=Tensor)


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return generator if generator is not None else _default_generator()


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shaped ``(out, in, *kernel)`` as in PyTorch."""
    shape = tensor.data.shape
    if len(shape) < 2:
        raise ValueError(
            f"fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def uniform_(
    tensor: T, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None
) -> T:
    """Fill with U(a, b)."""
    tensor.data[...] = _rng(generator).uniform(a, b, size=tensor.data.shape)
    return tensor


def normal_(
    tensor: T,
    mean: float = 0.0,
    std: float = 1.0,
    generator: np.random.Generator | None = None,
) -> T:
    """Fill with N(mean, std²)."""
    tensor.data[...] = _rng(generator).normal(mean, std, size=tensor.data.shape)
    return tensor


def zeros_(tensor: T) -> T:
    tensor.data[...] = 0
    return tensor


def ones_(tensor: T) -> T:
    tensor.data[...] = 1
    return tensor


def kaiming_uniform_(
    tensor: T,
    a: float = 0.0,
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> T:
    """He initialisation: U(-b, b) with ``b = gain * sqrt(3 / fan_in)``.

    ``gain`` is ``sqrt(2 / (1 + a²))`` for (leaky) ReLU and 1 for linear. With
    ``a = sqrt(5)`` (what Linear and Conv2d use) ``b = 1 / sqrt(fan_in)``.
    """
    fan_in, _ = calculate_fan_in_and_fan_out(tensor)
    if nonlinearity == "leaky_relu":
        gain = math.sqrt(2.0 / (1 + a * a))
    elif nonlinearity == "relu":
        gain = math.sqrt(2.0)
    elif nonlinearity in ("linear", "sigmoid"):
        gain = 1.0
    elif nonlinearity == "tanh":
        gain = 5.0 / 3
    else:
        raise ValueError(f"kaiming_uniform_: unknown nonlinearity {nonlinearity!r}")
    bound = gain * math.sqrt(3.0 / fan_in)
    return uniform_(tensor, -bound, bound, generator)


def xavier_uniform_(
    tensor: T, gain: float = 1.0, generator: np.random.Generator | None = None
) -> T:
    """Glorot initialisation: U(-b, b) with ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)
