"""The registry is the one list of operations: the op table of these tests,
Tensor's methods, the top-level functions and ``chainrule ops`` all follow it.
An op added to the registry but missing from any of them fails here."""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, find, settings

import chainrule as cr
from chainrule.engine import Tensor
from chainrule.engine.base import TensorBase
from chainrule.ops import REGISTRY

from .op_table import CASES, FIRST, SECOND, OpCase

PRIMITIVES = {name for name, info in REGISTRY.items() if info.op is not None}
COMPOSITES = {name for name, info in REGISTRY.items() if info.op is None}
# Tensor methods that are not registered operations: they record nothing
# differentiable (comparisons, argmax) or are not operations at all.
NOT_OPERATIONS = {
    "backward", "detach", "argmax", "argmin", "__pos__", "__setitem__", "__iter__",
    "__invert__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "__and__",
    "__or__", "__hash__", "__array_ufunc__",
    # spellings of the astype op (registered) and the in-place versions of registered ops
    "to", "float", "double", "cpu", "cuda", "__iadd__", "__isub__", "__imul__", "__itruediv__",
    "add_", "sub_", "mul_", "div_", "clamp_", "fill_", "zero_", "copy_",
}


def _ops_in(t: Any) -> set[str]:
    """The names of the ops in the graph behind ``t``."""
    seen, todo, names = set(), [t], set()
    while todo:
        node = todo.pop()
        if id(node) in seen or not isinstance(node, Tensor):
            continue
        seen.add(id(node))
        if node.grad_fn is not None:
            names.add(node.grad_fn.name)
            todo.extend(node._parents)
    return names


def _exercised(case: OpCase, size: Any) -> set[str]:
    """The ops one (minimal) example of ``case`` records."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample = find(case.sample(size), lambda s: True,
                      settings=settings(database=None, suppress_health_check=list(HealthCheck)))
    leaves = [cr.tensor(a, dtype=np.float64, requires_grad=True) for a in sample.arrays]
    return _ops_in(case.fn(*leaves, **sample.params))


@pytest.fixture(scope="module")
def exercised() -> dict[str, set[str]]:
    return {case.name: _exercised(case, FIRST) for case in CASES}


def test_every_primitive_is_in_the_numerical_table(exercised: dict[str, set[str]]) -> None:
    """Each op of the registry appears in the graph of some case: so it is checked
    against NumPy, central differences, forward mode and float32."""
    seen = set().union(*exercised.values())
    assert PRIMITIVES - seen == set()
    assert seen - PRIMITIVES == set(), "a graph holds an op the registry does not list"


def test_every_primitive_is_in_the_second_order_table(exercised: dict[str, set[str]]) -> None:
    seen = set().union(*(ops for name, ops in exercised.items()
                         if next(c for c in CASES if c.name == name).second_order))
    assert PRIMITIVES - seen == set()


def test_every_composite_has_a_case() -> None:
    names = {case.name for case in CASES}
    missing = {c for c in COMPOSITES if not any(n.split("-")[0] == c for n in names)}
    assert missing == set()


def test_second_order_sizes_fit() -> None:
    for case in CASES:
        if case.second_order:
            assert case.sample(SECOND) is not None


def test_registered_methods_are_tensor_methods() -> None:
    for info in REGISTRY.values():
        for method in info.methods:
            assert hasattr(Tensor, method), f"{info.name}: Tensor has no {method}"


def test_every_tensor_operation_is_registered() -> None:
    """Nothing on Tensor computes a differentiable op without a registry entry."""
    registered = {m for info in REGISTRY.values() for m in info.methods}
    own = {name for name in vars(Tensor) if not name.startswith("_") or (
        name.startswith("__") and name.endswith("__"))}
    own -= {"__module__", "__doc__", "__slots__", "__array_ufunc__", "__annotations__",
            "__slotnames__",  # cached on the class by copy and pickle
            "__qualname__"}
    assert own - registered - NOT_OPERATIONS == set()
    assert not (set(vars(TensorBase)) & registered), "an op method sits in TensorBase"


def _resolve(dotted: str) -> Any:
    obj: Any = cr
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def test_registered_functions_are_exported() -> None:
    for info in REGISTRY.values():
        if info.function is None:
            continue
        fn = _resolve(info.function)
        assert callable(fn), info.function
        if "." not in info.function:
            assert info.function in cr.__all__, f"cr.{info.function} is not in __all__"


def test_docstrings_carry_the_formulas() -> None:
    """Every registered function and method documents itself; the functions'
    docstrings end with the registry's formula."""
    for info in REGISTRY.values():
        for method in info.methods:
            assert inspect.getdoc(getattr(Tensor, method)), f"Tensor.{method} has no docstring"
        if info.function is not None and "." not in info.function:
            doc = inspect.getdoc(_resolve(info.function)) or ""
            assert info.formula in doc, f"cr.{info.function}: {doc!r}"


def test_each_formula_is_one_line() -> None:
    for info in REGISTRY.values():
        assert info.formula and "\n" not in info.formula, info.name
        assert info.family in {"elementwise", "reduce", "shape", "linalg", "conv"}
