"""What layers share: new parameters, argument checks, and the input dtype check.

A float32 layer given a float64 input would otherwise compute in float64
without a word (NumPy promotes); as in PyTorch, a layer with parameters
refuses an input of another floating dtype, naming both and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from numpy.typing import DTypeLike

from chainrule.engine import Tensor, get_default_dtype
from chainrule.nn.module import Module, Parameter

from ..backend import xp as np  # the array library, through the one seam

IntPair = int | Sequence[int]

# how a Tensor and a model are converted to a dtype, in the error's advice
_TO = {
    "float32": ("x.float() / x.to(cr.float32)", "model.float()"),
    "float64": ("x.double() / x.to(cr.float64)", "model.double()"),
}


def new_param(shape: tuple[int, ...], dtype: DTypeLike | None) -> Parameter:
    """A zero Parameter of ``shape`` in ``dtype`` (the default floating dtype if None)."""
    dt = get_default_dtype() if dtype is None else np.dtype(dtype)
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"layer parameters need a floating dtype, got {dt}")
    return Parameter(np.zeros(shape, dtype=dt))


def check_positive(where: str, **sizes: Any) -> None:
    """ValueError naming ``where`` unless every size is an int >= 1."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")


def pair(v: IntPair, name: str, where: str) -> tuple[int, int]:
    """``v`` as a pair of ints (``3`` -> ``(3, 3)``); ValueError naming ``where`` otherwise."""
    p = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(p) != 2 or not all(isinstance(i, (int, np.integer)) for i in p):
        raise ValueError(f"{where}: {name} must be an int or a pair of ints, got {v!r}")
    return int(p[0]), int(p[1])


def input_dtype(x: Any) -> Any:
    """The dtype of a Tensor or array input; None for anything else (lists, numbers)."""
    if isinstance(x, Tensor):
        return x.data.dtype
    return x.dtype if isinstance(x, np.ndarray) else None


def check_input_dtype(layer: Module | str, x: Any, param: Any, what: str = "weight") -> None:
    """TypeError unless a floating input ``x`` has the dtype of the layer's ``param``.

    >>> check_input_dtype(Linear(2, 2), np.ones((1, 2)), ...)   # doctest: +SKIP
    Traceback (most recent call last):
    TypeError: Linear: the input is float64 but the layer's weight is float32; ...
    """
    got = x.data.dtype if isinstance(x, Tensor) else input_dtype(x)
    want = param.data.dtype if isinstance(param, Tensor) else input_dtype(param)
    if got is want or got is None or want is None or got.kind != "f" or got == want:
        return
    name = layer if isinstance(layer, str) else type(layer).__name__
    if isinstance(x, Tensor):
        to_input = _TO.get(want.name, (f"x.to(numpy.{want.name})", ""))[0]
    else:
        to_input = f"x.astype(numpy.{want.name})"
    to_model = _TO.get(got.name, ("", f"model.to({got.name})"))[1]
    raise TypeError(
        f"{name}: the input is {got} but the layer's {what} is {want}; convert the input "
        f"with {to_input}, or the model with {to_model}"
    )
