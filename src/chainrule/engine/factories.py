"""Ways to make tensors, and the random generators behind ``rand``/``randn``.

Every factory takes ``device=`` ("cpu", "cuda", "cuda:N"). ``rand`` and
``randn`` draw on the cpu and copy to the device, so a seed gives the same
numbers everywhere; random draws during training (dropout masks) come from a
generator on the tensor's own device (``generator(device)``), seeded by
``manual_seed`` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import backend
from ..backend import xp
from .base import get_default_dtype
from .record import as_tensor
from .tensor import Tensor

_SEED: list[int | None] = [None]  # manual_seed's seed (None: from the operating system)
_RNG: dict[str, Any] = {}  # one generator per device, made on first use


def manual_seed(seed: int) -> None:
    """Seed the generators behind ``cr.rand``, ``cr.randn``, layer initialisation and
    dropout, on every device."""
    if isinstance(seed, bool) or not isinstance(seed, (int, xp.integer)) or seed < 0:
        raise ValueError(f"manual_seed: the seed must be an int >= 0, got {seed!r}")
    _SEED[0] = int(seed)
    _RNG.clear()


def generator(device: Any = "cpu") -> Any:
    """The generator chainrule draws from on ``device`` (NumPy's on the cpu, CuPy's on
    a GPU: there, only ``random`` and ``standard_normal`` are used)."""
    key = str(device)
    if key not in _RNG:
        kind, index = backend.parse_device(key, "generator")
        seed = _SEED[0]
        if kind == "cpu":
            _RNG[key] = xp.random.default_rng(seed)
        else:
            with backend.gpu(index, "generator"):
                _RNG[key] = backend.cuda_modules()[0].random.default_rng(
                    None if seed is None else seed + 1 + index)
    return _RNG[key]


def _shape(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, xp.integer)) and n >= 0 for n in shape):
        raise ValueError(f"shape must be non-negative ints, got {shape!r}")
    return tuple(int(n) for n in shape)


def _float(dtype: Any) -> Any:
    """``dtype``, or the default floating dtype when it is None."""
    return get_default_dtype() if dtype is None else dtype


def _make(make: str, device: Any, *args: Any, **kwargs: Any) -> Any:
    """``numpy.<make>(...)`` on the cpu, or ``cupy.<make>(...)`` on GPU ``device``."""
    kind, index = backend.parse_device("cpu" if device is None else device, make)
    if kind == "cpu":
        return getattr(xp, make)(*args, **kwargs)
    with backend.gpu(index, make):
        return getattr(backend.cuda_modules()[0], make)(*args, **kwargs)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None,
           device: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (lists infer dtype like NumPy), on
    ``device`` (by default where ``data`` is: the cpu for lists and NumPy arrays)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False,
          device: Any = None) -> Tensor:
    return Tensor(_make("zeros", device, _shape(shape), dtype=_float(dtype)), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False,
         device: Any = None) -> Tensor:
    return Tensor(_make("ones", device, _shape(shape), dtype=_float(dtype)), requires_grad)


def full(shape: Sequence[int] | int, value: float, dtype: Any = None,
         requires_grad: bool = False, device: Any = None) -> Tensor:
    shp = _shape((shape,) if isinstance(shape, int) else (tuple(shape),))
    if dtype is None and isinstance(value, float):
        dtype = get_default_dtype()
    return Tensor(_make("full", device, shp, value, dtype=dtype), requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False, device: Any = None) -> Tensor:
    args = (start, stop, step) if stop is not None else (start,)
    return Tensor(_make("arange", device, *args, dtype=dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None,
        requires_grad: bool = False, device: Any = None) -> Tensor:
    return Tensor(_make("eye", device, n, m, dtype=_float(dtype)), requires_grad)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape and dtype, on ``t``'s device."""
    return Tensor(xp.zeros_like(as_tensor(t, "zeros_like").data, dtype=dtype), requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``t``'s shape and dtype, on ``t``'s device."""
    return Tensor(xp.ones_like(as_tensor(t, "ones_like").data, dtype=dtype), requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False,
         device: Any = None) -> Tensor:
    """Uniform on [0, 1) (drawn on the cpu: the same numbers on every device)."""
    data = generator().random(_shape(shape)).astype(_float(dtype))
    return Tensor(data, requires_grad=requires_grad, device=device)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False,
          device: Any = None) -> Tensor:
    """Standard normal (drawn on the cpu: the same numbers on every device)."""
    data = generator().standard_normal(_shape(shape)).astype(_float(dtype))
    return Tensor(data, requires_grad=requires_grad, device=device)
