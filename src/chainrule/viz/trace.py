"""Reading a graph: every node behind a ``Value`` or ``Tensor``, in one shape.

Both engines are read through a small adapter, so the same code draws and
explains a scalar graph and a tensor graph. A tensor's gradient is its
``.grad`` for a leaf and, for an intermediate tensor, the gradient it received
in the latest ``backward()`` (kept on the graph, see ``engine/sweep.py``).
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..graph import toposort
from ..scalar import Value
from .layers import Layers, read_layers
from .numbers import PICTURE_LIMIT, array_text, format_number


@dataclass(frozen=True)
class Node:
    """One node of a traced graph, as the pictures and ``explain`` see it."""

    index: int  # position in topological order (inputs first, root last)
    obj: Any  # the Value or Tensor itself, or the raw constant
    kind: str  # "input", "const" or "result" (made by an operation)
    op: str  # the operation's symbol, e.g. "×" or "tanh"; "" unless a result
    name: str  # how text refers to it: its label, a constant's value, or v1, v2, ...
    ident: str  # its Mermaid / DOT id
    op_ident: str  # the id of the circle of the operation that made it ("" if none)
    data: str  # its value, short: "3", "[[1, 2], [3, 4]]", or a summary of a large tensor
    grad: str | None  # the same for its gradient (None when it has none)
    inputs: tuple[int, ...]  # indices of the nodes it was computed from
    value: Any = None  # the number or array itself
    gradient: Any = None  # its gradient as a number or array (None when it has none)
    op_name: str = ""  # the op's name in the registry ("mul", "linear"), "" unless a result
    layer: int = -1  # index in Graph.layers.calls of the layer that made it (-1: none)
    requires_grad: bool = True  # whether backward() gives it a gradient


@dataclass(frozen=True)
class Graph:
    """A traced graph: its nodes (root last), its layers, and whether backward() ran."""

    nodes: list[Node]
    layers: Layers
    scalar: bool  # a Value graph (else a Tensor graph)
    ran: bool  # backward() has run from this root (so gradients are there to show)


class _Const:
    """A raw number or array that a tensor operation took as an input."""

    def __init__(self, value: Any) -> None:
        self.value = value


_OP_SYMBOLS = {"add": "+", "sub": "-", "mul": "×", "div": "/", "matmul": "@", "pow": "**"}
_OP_WORDS = {"+": "plus", "-": "minus", "×": "mult", "/": "div", "@": "matmul", "**": "pow"}
_NUMBER_WORDS = "zero one two three four five six seven eight nine ten".split()
_RESERVED = {"end", "graph", "flowchart", "subgraph", "style", "class", "classdef", "click"}
_RESERVED |= {"linkstyle", "direction", "default", "node", "edge", "digraph", "strict"}


@lru_cache(maxsize=1)
def _tensor_type() -> type | None:
    """chainrule's Tensor class, imported only when a non-Value graph is drawn."""
    module = importlib.import_module("chainrule.engine")
    tensor_type: type | None = getattr(module, "Tensor", None)
    return tensor_type


def _is_tensor(x: Any) -> bool:
    tensor_type = _tensor_type()
    if tensor_type is not None and isinstance(x, tensor_type):
        return True
    return all(hasattr(x, a) for a in ("_op", "_parents", "shape", "data"))


def _received(t: Any) -> Any:
    """The gradient an intermediate tensor received in the latest backward()."""
    if not hasattr(t, "_pending"):
        return None
    sweep = importlib.import_module("chainrule.engine.sweep")
    return sweep.received(t)


def _array(x: Any) -> Any:
    return None if x is None else np.asarray(getattr(x, "data", x))


class _ScalarReader:
    def inputs(self, v: Value) -> Sequence[Any]:
        return v.inputs

    def kind(self, v: Value) -> str:
        return "const" if v.is_const else "input" if v.is_leaf else "result"

    def op(self, v: Value) -> str:
        return v.op

    def op_name(self, v: Value) -> str:
        return v.op

    def label(self, v: Value) -> str:
        return v.label

    def value(self, v: Value) -> Any:
        return v.data

    def gradient(self, v: Value) -> Any:
        return v.grad

    def requires_grad(self, v: Value) -> bool:
        return not v.is_const


class _TensorReader:
    def inputs(self, t: Any) -> Sequence[Any]:
        if isinstance(t, _Const):
            return ()
        return tuple(p if _is_tensor(p) else _Const(p) for p in t._parents)

    def kind(self, t: Any) -> str:
        if isinstance(t, _Const):
            return "const"
        return "input" if t._op is None else "result"

    def op_name(self, t: Any) -> str:
        return str(getattr(t._op, "name", t._op))

    def op(self, t: Any) -> str:
        name = self.op_name(t)
        return _OP_SYMBOLS.get(name, name)

    def label(self, t: Any) -> str:
        return "" if isinstance(t, _Const) else getattr(t, "label", None) or ""

    def value(self, t: Any) -> Any:
        return np.asarray(t.value if isinstance(t, _Const) else t.data)

    def gradient(self, t: Any) -> Any:
        if isinstance(t, _Const):
            return None
        g = getattr(t, "grad", None)
        if g is None and t._op is not None:
            g = _received(t)
        return _array(g)

    def requires_grad(self, t: Any) -> bool:
        return bool(getattr(t, "requires_grad", True)) and not isinstance(t, _Const)


class _TooLarge(Exception):
    pass


def _reader(root: Any) -> Any:
    if isinstance(root, Value):
        return _ScalarReader()
    if _is_tensor(root):
        return _TensorReader()
    raise TypeError(
        f"chainrule.viz draws the graph behind a Value or a Tensor, "
        f"got {type(root).__name__}; build the expression from Values or Tensors first"
    )


def trace(root: Any, max_nodes: int | None = None) -> list[Node]:
    """Every node ``root`` depends on, in topological order (``root`` last).

    ``root`` is a ``Value`` or a ``Tensor``. With ``max_nodes``, a larger
    graph raises ``ValueError`` instead of being read to the end.
    """
    return read(root, max_nodes).nodes


def read(root: Any, max_nodes: int | None = None) -> Graph:
    """The graph behind ``root``: its nodes, its layers and whether backward() ran."""
    reader = _reader(root)
    # The traversal runs on id()s, so nodes need not be hashable; `objects`
    # keeps every node (and every wrapped constant) alive while it runs.
    objects: dict[int, Any] = {id(root): root}
    inputs: dict[int, list[int]] = {}

    def input_ids(key: int) -> list[int]:
        if key in inputs:  # asked again: the same answer (constants are wrapped once)
            return inputs[key]
        if max_nodes is not None and len(objects) > max_nodes:
            raise _TooLarge
        ids = []
        for p in reader.inputs(objects[key]):
            objects.setdefault(id(p), p)
            ids.append(id(p))
        inputs[key] = ids
        return ids

    try:
        order = toposort(id(root), input_ids)
    except _TooLarge:
        raise ValueError(f"the graph has more than {max_nodes} nodes") from None
    position = {key: i for i, key in enumerate(order)}
    objs = [objects[key] for key in order]
    edges = [tuple(position[key] for key in inputs[k]) for k in order]
    scalar = isinstance(reader, _ScalarReader)
    layers = Layers([], {}, {}) if scalar else read_layers(objs, edges)
    kinds = [reader.kind(o) for o in objs]
    labels = [reader.label(o) or layers.names.get(i, "") for i, o in enumerate(objs)]
    ops = [reader.op(o) if k == "result" else "" for o, k in zip(objs, kinds, strict=True)]
    values = [reader.value(o) for o in objs]
    names = _names(values, kinds, labels)
    idents = _unique(
        [_ident_base(*args) for args in zip(values, kinds, labels, names, strict=True)]
        + [_op_word(op) for op in ops if op]
    )
    op_idents = iter(idents[len(objs) :])
    nodes = []
    for i, (o, k, op) in enumerate(zip(objs, kinds, ops, strict=True)):
        gradient = None if k == "const" else reader.gradient(o)
        nodes.append(Node(
            index=i,
            obj=o,
            kind=k,
            op=op,
            name=names[i],
            ident=idents[i],
            op_ident=next(op_idents) if op else "",
            data=_short(values[i]),
            grad=None if gradient is None else _short(gradient),
            inputs=edges[i],
            value=values[i],
            gradient=gradient,
            op_name=reader.op_name(o) if k == "result" else "",
            layer=layers.layer_of.get(i, -1),
            requires_grad=reader.requires_grad(o),
        ))
    return Graph(nodes, layers, scalar, _ran(root, nodes[-1], scalar))


def _ran(root: Any, node: Node, scalar: bool) -> bool:
    if scalar:
        return bool(root.grad != 0.0)
    return node.gradient is not None


def _short(x: Any) -> str:
    if isinstance(x, float):
        return format_number(x)
    return array_text(x, PICTURE_LIMIT)


def _names(values: list[Any], kinds: list[str], labels: list[str]) -> list[str]:
    """Labels where there are labels; v1, v2, ... (never a label) elsewhere."""
    taken = set(labels)
    counter = 0
    names = []
    for value, kind, label in zip(values, kinds, labels, strict=True):
        if label:
            names.append(label)
        elif kind == "const":
            names.append(_short(value))
        else:
            counter += 1
            while f"v{counter}" in taken:
                counter += 1
            names.append(f"v{counter}")
    return names


def _ident_base(value: Any, kind: str, label: str, name: str) -> str:
    if kind == "const" and not label:
        number = value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value
        if isinstance(number, (int, float)) and math.isfinite(number) and number == int(number):
            if 0 <= number <= 10:
                return _NUMBER_WORDS[int(number)]
        return "const"
    return _sanitize(name)


def _op_word(op: str) -> str:
    return _OP_WORDS.get("**" if op.startswith("**") else op, None) or _sanitize(op)


def _sanitize(text: str) -> str:
    ident = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "n"
    return "n" + ident if ident[0].isdigit() else ident


def _unique(bases: list[str]) -> list[str]:
    """One id per base; a base that occurs several times is numbered 1, 2, ..."""
    counts: dict[str, int] = {}
    for b in bases:
        counts[b] = counts.get(b, 0) + 1
    seen: dict[str, int] = {}
    used: set[str] = set()
    out = []
    for b in bases:
        if counts[b] == 1 and b.lower() not in _RESERVED:
            ident = b
        else:
            seen[b] = seen.get(b, 0) + 1
            ident = f"{b}{seen[b]}"
        while ident in used or ident.lower() in _RESERVED:
            ident += "_"
        used.add(ident)
        out.append(ident)
    return out


def expression(node: Node, nodes: Sequence[Node]) -> str:
    """How ``node`` was computed, with its inputs' names: ``x + 2``, ``tanh(v1)``."""
    args = [nodes[i].name for i in node.inputs]
    if len(args) == 2 and node.op in ("+", "-", "×", "/", "@", "**"):
        return f"{args[0]} {node.op} {args[1]}"
    if node.op == "neg" and len(args) == 1:
        return f"-{args[0]}"
    if node.op.startswith("**") and len(args) == 1:
        return f"{args[0]} ** {node.op[2:]}"
    return f"{node.op}({', '.join(args)})"
