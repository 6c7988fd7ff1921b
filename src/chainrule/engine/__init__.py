"""The tensor engine: ``Tensor``, recording, the reverse sweep and forward mode.

| module | what it holds |
|---|---|
| ``mode.py`` | grad mode and forward-mode levels, per thread |
| ``base.py`` | ``TensorBase``: the array, its gradient, labels, hooks, printing |
| ``record.py`` | running an op and remembering it in the new tensor |
| ``tensor.py`` | ``Tensor``: every operation of a tensor, and ``backward()`` |
| ``sweep.py`` | the reverse sweep, shared by ``backward()`` and the transforms |
| ``forward.py`` | forward mode: tangents carried along with the values |
| ``functions.py`` | the top-level functions (``cr.exp``, ``cr.stack``, ...) |
"""

from .base import HookHandle, get_default_dtype, set_default_dtype
from .mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .record import as_tensor, leaf
from .tensor import MaxResult, Tensor

__all__ = ["HookHandle", "MaxResult", "Tensor", "as_tensor", "detect_anomaly", "enable_grad",
           "get_default_dtype", "is_grad_enabled", "leaf", "no_grad", "set_default_dtype",
           "set_grad_enabled"]
