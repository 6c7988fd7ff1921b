"""``Module`` and ``Parameter``: the building blocks of every network.

A Module registers what is assigned to its attributes: a :class:`Parameter`
becomes one of its parameters, another Module one of its children, and
:meth:`Module.register_buffer` adds state that is saved but not trained
(BatchNorm's running statistics). Names and nesting follow PyTorch's, so
``state_dict()`` keys such as ``"0.weight"`` or ``"bn.running_mean"`` are the
same as in the equivalent PyTorch model and weights copy across directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

from chainrule import backend
from chainrule.engine import Tensor
from chainrule.engine.base import next_seq
from chainrule.errors import ShapeError
from chainrule.nn.hooks import RemovableHandle, to_args

from ..backend import xp as np  # the array library, through the one seam


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (``requires_grad=True``).

    >>> p = Parameter(np.zeros((2, 3)))
    >>> p.requires_grad, p.is_leaf
    (True, True)
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` returns (both empty after a strict load)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


M = TypeVar("M", bound="Module")  # the module train, eval and to give back: its own type


class Module:
    """Base class of layers and models: subclass it and define ``forward``.

    >>> class MLP(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = Linear(64, 32)
    ...         self.out = Linear(32, 10)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent: set[str]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})

    # ---------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}.{name} is a parameter: assign a Parameter "
                    f"(or None), not {type(value).__name__}"
                )
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}.{name} is a submodule: assign a Module "
                    f"(or None), not {type(value).__name__}"
                )
            modules[name] = None
        elif name in buffers:
            buffers[name] = None if value is None else _as_tensor(value)
        else:
            _refuse_hidden_modules(self, name, value)
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        self.__dict__.pop(name, None)
        for store in (self._parameters, self._buffers, self._modules):
            store.pop(name, None)
        self._non_persistent.discard(name)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: look in the registries
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` under ``name`` (``None`` keeps a placeholder, e.g. ``bias=False``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: {name!r} must be a Parameter or None, "
                f"got {type(param).__name__}"
            )
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, value: Any, persistent: bool = True) -> None:
        """Add non-trainable state (a Tensor or array) that moves with the module.

        Persistent buffers are part of ``state_dict()``.
        """
        self._forget(name)
        self._buffers[name] = None if value is None else _as_tensor(value)
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child called ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._forget(name)
        self._modules[name] = module

    # ---------------------------------------------------------------- running
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = next_seq()  # the module's ops are the ones made from here on (see _note_call)
        hooks = self.__dict__.get("_forward_hooks")
        if not hooks:
            out = self.forward(*args, **kwargs)
        else:
            for hook in list(hooks["pre"].values()):
                changed = hook(self, args)
                if changed is not None:
                    args = changed if isinstance(changed, tuple) else (changed,)
            out = self.forward(*args, **kwargs)
            for hook in list(hooks["post"].values()):
                changed = hook(self, args, out)
                if changed is not None:
                    out = changed
        if type(out) is Tensor and out._extra is None and out._node is not None:
            out._extra = {"modules": ((self, start),)}  # _note_call's common case, inline
        else:
            _note_call(self, start, out)
        return out

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward``; ``handle.remove()`` stops it.

        ``args`` is the tuple of positional inputs. A hook that returns a value
        replaces the output.
        """
        return self._add_hook("post", hook)

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``; it may return new inputs."""
        return self._add_hook("pre", hook)

    def _add_hook(self, kind: str, hook: Callable[..., Any]) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"register_forward_hook: expected a function, got {hook!r}")
        if "_forward_hooks" not in self.__dict__:
            object.__setattr__(self, "_forward_hooks", {"pre": {}, "post": {}})
        return RemovableHandle(self.__dict__["_forward_hooks"][kind], hook)

    # ---------------------------------------------------------------- traversal
    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module below it, each once, depth first."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{n}" if name else n, m) for n, m in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def _named(
        self, store: str, prefix: str, recurse: bool, check: bool = True
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_name, module in modules:
            for name, value in module.__dict__.items() if check else ():
                if type(value) in _CONTAINERS and name not in _REGISTRIES:  # filled later
                    _refuse_hidden_modules(module, name, value, first_only=True)
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                if store == "_buffers" and name in module._non_persistent:
                    continue
                seen.add(id(value))
                yield (f"{mod_name}.{name}" if mod_name else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs, e.g. ``("0.weight", ...)``; a shared one appears once."""
        return self._named("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``(name, buffer)`` pairs of the persistent buffers."""
        return self._named("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---------------------------------------------------------------- modes and grads
    def train(self: M, mode: bool = True) -> M:
        """Switch this module and its children to training mode (or eval with False)."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self: M) -> M:
        """Switch to evaluation mode: Dropout is off, BatchNorm uses its running stats."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (default) or to zeros in place."""
        zero_grads((p for _, p in self._named("_parameters", "", True, check=False)), set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and then on this module."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    def to(self: M, *args: Any, **kwargs: Any) -> M:
        """Cast floating parameters and buffers to a dtype, in place: ``model.to(cr.float64)``.

        Also ``.to(device)`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``) and
        ``.to(device, dtype)``, with ``dtype=`` and ``device=`` keywords, as in
        PyTorch. Parameters and buffers stay the same objects (an optimizer
        made before keeps working; its state follows on the next step); their
        gradients move and are cast too.
        """
        device, dtype = to_args(args, kwargs)
        for module in self.modules():
            for t in [*module._parameters.values(), *module._buffers.values()]:
                if t is None:
                    continue
                if dtype is not None and np.issubdtype(t.data.dtype, np.floating):
                    t.data = t.data.astype(dtype)
                    if t.grad is not None:
                        t.grad.data = t.grad.data.astype(dtype)
                if device is not None:  # parameters stay the same objects, on the device
                    t.data = backend.to_device(t.data, device, "Module.to")
                    if t.grad is not None:
                        t.grad.data = backend.to_device(t.grad.data, device, "Module.to")
        return self

    def float(self) -> Module:
        """Cast parameters and buffers to float32."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Cast parameters and buffers to float64 (for gradient checks)."""
        return self.to(np.float64)

    # ---------------------------------------------------------------- state
    def _state_entries(self) -> dict[str, Tensor]:
        """Parameters then persistent buffers, module by module, as PyTorch orders them."""
        entries: dict[str, Tensor] = {}
        for mod_name, module in self.named_modules():
            prefix = f"{mod_name}." if mod_name else ""
            for name, p in module._parameters.items():
                if p is not None:
                    entries[prefix + name] = p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    entries[prefix + name] = b
        return entries

    def state_dict(self) -> dict[str, Tensor]:
        """Every parameter and persistent buffer by PyTorch-style dotted name.

        The keys and their order are PyTorch's (``"0.weight"``,
        ``"1.running_mean"``, ...). The values are detached copies (a
        snapshot): training the model further does not change a state dict
        taken earlier.
        """
        return {name: Tensor(t.data) for name, t in self._state_entries().items()}

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values (Tensors or arrays) into the parameters and buffers, in place.

        Each value must have the entry's shape (``ShapeError`` naming the key
        and both shapes otherwise); it is cast to the entry's dtype. With
        ``strict=True`` missing or unexpected keys are a ``ValueError`` that
        lists them; with ``strict=False`` they are returned instead.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a dict of name -> array, "
                f"got {type(state_dict).__name__}"
            )
        own = self._state_entries()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append("missing keys " + ", ".join(map(repr, missing)))
            if unexpected:
                parts.append("unexpected keys " + ", ".join(map(repr, unexpected)))
            raise ValueError(
                f"load_state_dict: the state dict does not fit {type(self).__name__}: "
                + "; ".join(parts)
                + " (pass strict=False to load the keys that do match)"
            )
        arrays = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = backend.array_of(value.data if isinstance(value, Tensor) else value)
            if array.shape != target.data.shape:
                raise ShapeError(
                    f"load_state_dict: {key!r} has shape {target.data.shape} in the model but "
                    f"{array.shape} in the state dict"
                )
            # a checkpoint holds host arrays: onto the entry's device, explicitly
            arrays[key] = backend.to_device(array, backend.device_of(target.data))
        for key, array in arrays.items():  # all checked before anything changes
            own[key].data[...] = array
        return IncompatibleKeys(missing, unexpected)

    # ---------------------------------------------------------------- display
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        kids = list(self.named_children())
        extra = self.extra_repr()
        if not kids:
            return f"{type(self).__name__}({extra})"
        lines = [extra] if extra else []
        for name, module in kids:
            body = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


_REGISTRIES = frozenset({"_parameters", "_buffers", "_modules", "_forward_hooks"})
_CONTAINERS = (list, tuple, dict)


def _refuse_hidden_modules(owner: Module, name: str, value: Any, first_only: bool = False) -> None:
    """TypeError for a plain list, tuple or dict of Modules or Parameters on a Module.

    Their parameters would be silently left out of ``parameters()``,
    ``state_dict()`` and ``.to()``. ``first_only`` looks at the first item
    only (cheap enough to run on every ``parameters()`` call).
    """
    if type(value) in (list, tuple):
        items = value[:1] if first_only else value
        container = "list"
    elif type(value) is dict:
        items = list(value.values())[:1] if first_only else list(value.values())
        container = "dict"
    else:
        return
    kinds = {type(v) for v in items if isinstance(v, (Module, Parameter))}
    if not kinds:
        return
    params = all(issubclass(k, Parameter) for k in kinds)
    fix = f"nn.Parameter{container.title()}" if params else f"nn.Module{container.title()}"
    what = "Parameters" if params else "Modules"
    raise TypeError(
        f"{type(owner).__name__}.{name} is a plain {type(value).__name__} holding {what}: their "
        f"parameters would not be in parameters(), state_dict() or .to(); use {fix}(...)"
    )


def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Set each ``p.grad`` to None, or (``set_to_none=False``) fill it with zeros in place."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad.data[...] = 0


def _note_call(module: Module, start: int, out: Any) -> None:
    """Note on the tensors a call returned which module made them and the creation
    number the call began at: pictures and explanations (``chainrule.viz.layers``)
    name parameters and group ops by layer from it. Nothing is noted per op."""
    for t in out if type(out) is tuple else (out,):
        if isinstance(t, Tensor) and t._node is not None:
            extra = t._extras()
            extra["modules"] = (*extra.get("modules", ()), (module, start))


def _as_tensor(value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return Tensor(np.asarray(value))
