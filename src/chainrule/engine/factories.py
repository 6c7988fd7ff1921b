"""Ways to make tensors, and the random generator behind ``rand``/``randn``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..backend import xp
from .base import get_default_dtype
from .tensor import Tensor

_RNG: list[Any] = []  # the generator, made on first use (seeding from the OS costs at import)


def manual_seed(seed: int) -> None:
    """Seed the generator behind ``cr.rand``, ``cr.randn`` and layer initialisation."""
    if isinstance(seed, bool) or not isinstance(seed, (int, xp.integer)) or seed < 0:
        raise ValueError(f"manual_seed: the seed must be an int >= 0, got {seed!r}")
    _RNG[:] = [xp.random.default_rng(int(seed))]


def generator() -> Any:
    """The NumPy ``Generator`` chainrule draws from."""
    if not _RNG:
        _RNG.append(xp.random.default_rng())
    return _RNG[0]


def _shape(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, xp.integer)) and n >= 0 for n in shape):
        raise ValueError(f"shape must be non-negative ints, got {shape!r}")
    return tuple(int(n) for n in shape)


def _float(dtype: Any) -> Any:
    """``dtype``, or the default floating dtype when it is None."""
    return get_default_dtype() if dtype is None else dtype


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (lists infer dtype like NumPy)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.zeros(_shape(shape), dtype=_float(dtype)), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.ones(_shape(shape), dtype=_float(dtype)), requires_grad)


def full(shape: Sequence[int] | int, value: float, dtype: Any = None,
         requires_grad: bool = False) -> Tensor:
    shp = _shape((shape,) if isinstance(shape, int) else (tuple(shape),))
    if dtype is None and isinstance(value, float):
        dtype = get_default_dtype()
    return Tensor(xp.full(shp, value, dtype=dtype), requires_grad=requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    arr = xp.arange(start, stop, step, dtype=dtype) if stop is not None else xp.arange(
        start, dtype=dtype)
    return Tensor(arr, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None,
        requires_grad: bool = False) -> Tensor:
    return Tensor(xp.eye(n, m, dtype=_float(dtype)), requires_grad=requires_grad)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.zeros_like(xp.asarray(t), dtype=dtype), requires_grad=requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.ones_like(xp.asarray(t), dtype=dtype), requires_grad=requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1)."""
    return Tensor(generator().random(_shape(shape)).astype(_float(dtype)), requires_grad)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal."""
    return Tensor(generator().standard_normal(_shape(shape)).astype(_float(dtype)), requires_grad)
