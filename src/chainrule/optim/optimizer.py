"""The base class every optimizer shares: parameter groups, ``zero_grad``, ``step``.

An optimizer keeps a list of *parameter groups*, each a dict with the key
``"params"`` (a list of Tensors) and that group's hyperparameters (``"lr"``,
...). A learning-rate scheduler changes ``group["lr"]`` between steps.

``step()`` works on the NumPy arrays behind the Tensors (``p.data`` and
``p.grad.data``) and updates ``p.data`` in place, so it never records a graph
and keeps each parameter's dtype (float32 stays float32).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from numpy.typing import NDArray

from chainrule import backend
from chainrule.engine import Tensor
from chainrule.nn.module import zero_grads

from ..backend import xp as np  # the array library, through the one seam

Array = NDArray[np.floating[Any]]
ParamGroup = dict[str, Any]
ParamsArg = Iterable["Tensor"] | Iterable[ParamGroup]


class Optimizer:
    """Base class: subclasses define ``_check(group)`` and ``_update(...)``.

    ``_update(param, grad, state, group)`` receives the parameter's ndarray
    (to update in place), its gradient's ndarray, the parameter's state dict
    (empty on the first step) and its group's hyperparameters.
    """

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[int, dict[str, Any]] = {}
        self.param_groups: list[ParamGroup] = []
        if _is_tensor(params):
            raise TypeError(
                f"{self._name}: params must be an iterable of Tensors or of dicts, "
                "got a single Tensor; wrap it in a list: [p]"
            )
        groups: list[Any] = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def add_param_group(self, group: ParamGroup) -> None:
        """Add a dict ``{"params": [...], **hyperparameters}``; missing ones use the defaults."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{self._name}: a parameter group must be a dict with a 'params' key")
        params = group["params"]
        params = [params] if _is_tensor(params) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            data = getattr(p, "data", None)
            if data is None or not backend.is_array(data):
                raise TypeError(
                    f"{self._name}: parameter {i} is a {type(p).__name__}, not a Tensor"
                )
            if not np.issubdtype(data.dtype, np.floating):
                raise TypeError(
                    f"{self._name}: parameter {i} has dtype {data.dtype}; only floating "
                    "point Tensors can be optimized"
                )
            if id(p) in seen:
                raise ValueError(f"{self._name}: parameter {i} appears in more than one group")
            seen.add(id(p))
        new_group = {**self.defaults, **group, "params": params}
        self._check(new_group)
        self.param_groups.append(new_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (default) or to zeros in place."""
        zero_grads((p for g in self.param_groups for p in g["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()`` if given.

        ``closure``, if given, re-evaluates the model and returns the loss; it
        runs before the update.
        """
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                if grad.shape != p.data.shape:
                    raise ValueError(
                        f"{self._name}: a parameter of shape {p.data.shape} has a gradient "
                        f"of shape {grad.shape}"
                    )
                state = self.state.setdefault(id(p), {})
                if state and backend._CUDA:  # the model may have moved since the last step
                    _follow(state, p.data)
                self._update(p.data, grad, state, group)
        return loss

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as PyTorch lays it out, to save in a checkpoint.

        ``{"state": {i: {...}}, "param_groups": [{"lr": ..., "params": [i, ...]}]}``:
        parameters are numbered in the order of their groups, and each one's
        state (a step count, moment estimates as Tensors) is a copy, so
        training further does not change a state dict taken earlier.
        """
        number: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = copy.deepcopy({k: v for k, v in group.items() if k != "params"})
            packed["params"] = [number.setdefault(id(p), len(number)) for p in group["params"]]
            groups.append(packed)
        state = {
            number[pid]: {k: Tensor(v.copy()) if backend.is_array(v) else copy.deepcopy(v)
                          for k, v in entry.items()}
            for pid, entry in self.state.items() if pid in number
        }
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`state_dict`: hyperparameters, step counts, moments.

        The optimizer must have been made with the same groups of parameters,
        of the same shapes, in the same order (ValueError naming what
        differs otherwise). Values are copied and cast to each parameter's
        dtype, so the run continues exactly as the saved one would have.
        """
        name = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, Mapping) or {"state", "param_groups"} - set(state_dict):
            raise TypeError(f"{name}: expected a dict with 'state' and 'param_groups', as "
                            "Optimizer.state_dict() returns")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: the state dict has {len(saved_groups)} parameter groups, "
                             f"this optimizer {len(self.param_groups)}")
        params: dict[int, Any] = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}: group {i} has {len(saved['params'])} parameters in "
                                 f"the state dict but {len(group['params'])} here")
            params.update(zip((int(k) for k in saved["params"]), group["params"], strict=True))
        state: dict[int, dict[str, Any]] = {}
        for key, entry in state_dict["state"].items():
            p = params.get(int(key))
            if p is None:
                raise ValueError(f"{name}: state for parameter {key!r}, which no group lists")
            state[id(p)] = {k: _state_value(name, k, v, p) for k, v in entry.items()}
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            new_group = {**copy.deepcopy({k: v for k, v in saved.items() if k != "params"}),
                         "params": group["params"]}
            self._check(new_group)
            new_groups.append(new_group)
        self.param_groups[:] = new_groups
        self.state = state

    def _check(self, group: ParamGroup) -> None:
        """Raise ValueError for a hyperparameter out of range (``lr`` here)."""
        check_at_least(self._name, "lr", group["lr"], 0.0)

    def _update(self, param: Array, grad: Array, state: dict[str, Any], group: ParamGroup) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _state_value(where: str, key: str, value: Any, param: Tensor) -> Any:
    """A saved state entry as the optimizer keeps it: arrays of the parameter's shape and dtype
    (copied), an int step count, anything else as it is."""
    if key == "step":
        return int(np.asarray(value.data if isinstance(value, Tensor) else value))
    if isinstance(value, Tensor):
        value = value.data
    elif not backend.is_array(value) and hasattr(value, "__array__"):
        value = np.asarray(value)  # a tensor of another library
    if not backend.is_array(value):
        return copy.deepcopy(value)
    if value.shape != param.data.shape:
        raise ValueError(f"{where}: {key!r} has shape {value.shape} in the state dict but its "
                         f"parameter has shape {param.data.shape}")
    # on the parameter's device: a checkpoint holds host arrays
    return backend.to_device(value.astype(param.data.dtype), backend.device_of(param.data))


def _follow(state: dict[str, Any], param: Any) -> None:
    """Move a parameter's state arrays to the parameter's device (after ``Module.to``)."""
    device = backend.device_of(param)
    for key, value in state.items():
        if backend.is_array(value) and backend.device_of(value) != device:
            state[key] = backend.to_device(value, device, "Optimizer.step")


def _is_tensor(obj: object) -> bool:
    return backend.is_array(getattr(obj, "data", None))


def check_at_least(opt: str, name: str, value: float, low: float) -> None:
    """ValueError unless ``value >= low`` (NaN fails too)."""
    if not value >= low:
        raise ValueError(f"{opt}: invalid {name}={value!r}; it must be >= {low:g}")


def check_unit_interval(opt: str, name: str, value: float) -> None:
    """ValueError unless ``0 <= value < 1``."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{opt}: invalid {name}={value!r}; it must be in [0, 1)")
