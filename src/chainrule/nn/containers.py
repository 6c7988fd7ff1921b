"""Containers: modules that hold other modules (or parameters) and register them.

A plain Python list or dict of layers is invisible to ``parameters()``,
``state_dict()`` and ``.to()``; these containers are what to use instead,
with PyTorch's names and ``state_dict`` keys (``"layers.0.weight"``,
``"heads.cls.bias"``).

>>> class MLP(Module):
...     def __init__(self, sizes):
...         super().__init__()
...         self.layers = ModuleList(Linear(a, b) for a, b in zip(sizes, sizes[1:]))
...     def forward(self, x):
...         for layer in self.layers:
...             x = layer(x).relu()
...         return x
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from chainrule.nn.module import Module, Parameter


def _index(where: str, index: int, n: int) -> int:
    """``index`` (negative counts from the end) as a position in ``range(n)``."""
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"{where}: indices must be ints or slices, not {type(index).__name__}")
    if not -n <= index < n:
        raise IndexError(f"{where}: index {index} is out of range for {n} modules")
    return index % n


def _check_module(where: str, i: Any, item: Any) -> Module:
    if not isinstance(item, Module):
        raise TypeError(f"{where}: item {i!r} is a {type(item).__name__}, not a Module")
    return item


class Sequential(Module):
    """Modules applied one after another; children are named ``"0"``, ``"1"``, ...

    >>> model = Sequential(Linear(64, 32), ReLU(), Linear(32, 10))
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, *modules: Module | OrderedDict[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, item in enumerate(modules):
                if not isinstance(item, Module):
                    raise TypeError(
                        f"Sequential: argument {i} is a {type(item).__name__}, not a Module"
                    )
                self.add_module(str(i), item)

    def forward(self, x: Any) -> Any:
        for module in self.children():
            x = module(x)
        return x

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), _check_module("Sequential.append", len(self), module))
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return self.children()

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    def __getitem__(self, index: int | slice) -> Module | Sequential:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict((k, m) for k, m in items[index] if m is not None))
        module = items[_index("Sequential", index, len(items))][1]
        assert module is not None
        return module


class ModuleList(Module):
    """A list of modules, each registered (named ``"0"``, ``"1"``, ...); no ``forward``.

    Supports ``append``, ``extend``, ``insert``, indexing (a slice gives a
    ModuleList), assignment, ``del``, ``len``, iteration and ``+=``.

    >>> blocks = ModuleList([Linear(4, 4) for _ in range(3)])
    >>> [n for n, _ in blocks.named_parameters()][:2]
    ['0.weight', '0.bias']
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _items(self) -> list[Module]:
        return [m for m in self._modules.values() if m is not None]

    def _renumber(self, modules: list[Module]) -> None:
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def append(self, module: Module) -> ModuleList:
        _check_module("ModuleList.append", len(self), module)
        self._modules[str(len(self._modules))] = module
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError("ModuleList.extend: expected an iterable of Modules, got a Module; "
                            "use append")
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = self._items()
        modules.insert(index, _check_module("ModuleList.insert", index, module))
        self._renumber(modules)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items())

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> ModuleList: ...

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        modules = self._items()
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[_index("ModuleList", index, len(modules))]

    def __setitem__(self, index: int, module: Module) -> None:
        i = _index("ModuleList", index, len(self))
        self._modules[str(i)] = _check_module("ModuleList", index, module)

    def __delitem__(self, index: int | slice) -> None:
        modules = self._items()
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_index("ModuleList", index, len(modules))]
        self._renumber(modules)


class ModuleDict(Module):
    """A dict of modules by name, each registered under its key; no ``forward``.

    Keys keep their insertion order; ``state_dict`` keys are
    ``"<key>.<parameter>"`` as in PyTorch.

    >>> heads = ModuleDict({"cls": Linear(8, 10), "box": Linear(8, 4)})
    >>> sorted(heads.keys())
    ['box', 'cls']
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _check_key(self, key: Any) -> str:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(
                f"ModuleDict: keys must be non-empty strings without '.', got {key!r}"
            )
        return key

    def __getitem__(self, key: str) -> Module:
        module = self._modules.get(key)
        if module is None:
            raise KeyError(f"ModuleDict has no module {key!r}; it has {list(self.keys())}")
        return module

    def __setitem__(self, key: str, module: Module) -> None:
        self._modules[self._check_key(key)] = _check_module("ModuleDict", key, module)

    def __delitem__(self, key: str) -> None:
        self[key]  # KeyError naming the key if it is not there
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> list[str]:
        return list(self._modules)

    def values(self) -> list[Module]:
        return [self[k] for k in self._modules]

    def items(self) -> list[tuple[str, Module]]:
        return [(k, self[k]) for k in self._modules]

    def pop(self, key: str) -> Module:
        module = self[key]
        del self._modules[key]
        return module

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(
                    f"ModuleDict.update: expected a mapping or (name, module) pairs, got {pair!r}"
                )
            self[pair[0]] = pair[1]


class ParameterList(Module):
    """A list of parameters, each registered (named ``"0"``, ``"1"``, ...).

    A Tensor or array that is not a Parameter is wrapped in one.
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        for value in values or ():
            self.append(value)

    def append(self, value: Any) -> ParameterList:
        param = value if isinstance(value, Parameter) else Parameter(getattr(value, "data", value))
        self.register_parameter(str(len(self._parameters)), param)
        return self

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter([p for p in self._parameters.values() if p is not None])

    def __getitem__(self, index: int) -> Parameter:
        params = list(self)
        return params[_index("ParameterList", index, len(params))]
