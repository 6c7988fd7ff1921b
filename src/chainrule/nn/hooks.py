"""Small helpers of ``Module``: hook handles and the arguments of ``Module.to``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..backend import xp as np  # the array library, through the one seam


class RemovableHandle:
    """What ``register_forward_hook`` returns: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict[int, Callable[..., Any]], hook: Callable[..., Any]) -> None:
        RemovableHandle._next_id += 1
        self.id = RemovableHandle._next_id
        self._hooks = hooks
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def to_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """``(device, dtype)`` from ``to``'s arguments (either may be None)."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking"}
    if unknown or len(args) > 2:
        raise TypeError(f"to: expected to(device), to(dtype) or to(device, dtype), "
                        f"got {len(args)} arguments and {sorted(unknown) or 'no'} unknown keywords")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    for arg in args:
        if isinstance(arg, str) or type(arg).__name__ == "device":
            device = arg
        else:
            dtype = arg
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"to: {dtype!r} is neither a device nor a dtype") from None
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"to: expected a floating dtype, got {dtype}")
    return device, dtype
