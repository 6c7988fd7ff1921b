"""Seeing the graph: Mermaid and Graphviz pictures of a ``Value`` or ``Tensor`` graph.

``mermaid(root)`` draws in the style of hand-made notes::

    flowchart LR
    a["a<br/>data: 3<br/>grad: 4"] --> plus(("+"))
    b["b<br/>data: 2<br/>grad: 4"] --> plus
    plus --> c["c<br/>data: 5<br/>grad: 4"]

one box per node (label, data, grad), one circle per operation, numbers mixed
into an expression as ``(const)`` boxes. ``dot(root)`` gives the same graph
as Graphviz DOT text and ``render(root, "g.svg")`` draws it with Graphviz.

Both engines are read through a small adapter (``trace``), so the same code
draws a scalar graph and a tensor graph, where a tensor shows its shape.
"""

from __future__ import annotations

import importlib
import math
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import GraphvizNotFoundError
from .graph import toposort
from .scalar import Value

__all__ = ["GraphvizNotFoundError", "Node", "dot", "format_number", "mermaid", "render", "trace"]


def format_number(x: float) -> str:
    """A number as the notes write it: ``3`` not ``3.0``, at most 4 decimals.

    >>> format_number(3.0), format_number(-0.5), format_number(2 / 3), format_number(1e-7)
    ('3', '-0.5', '0.6667', '1e-07')
    """
    if not math.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    if 1e-4 <= abs(x) < 1e15:
        text = f"{x:.4f}".rstrip("0").rstrip(".")
        if text not in ("0", "-0"):
            return text
    return f"{x:.4g}"


# -- reading a graph ---------------------------------------------------------
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
    data: str  # its value, short: "3", or "shape (2, 3) float64" for a large tensor
    grad: str | None  # the same for .grad (None when it has none)
    inputs: tuple[int, ...]  # indices of the nodes it was computed from


class _Const:
    """A raw number or array that a tensor operation took as an input."""

    def __init__(self, value: Any) -> None:
        self.value = value


_OP_SYMBOLS = {"add": "+", "sub": "-", "mul": "×", "div": "/", "matmul": "@", "pow": "**"}
_OP_WORDS = {"+": "plus", "-": "minus", "×": "mult", "/": "div", "@": "matmul", "**": "pow"}
_NUMBER_WORDS = "zero one two three four five six seven eight nine ten".split()
_RESERVED = {"end", "graph", "flowchart", "subgraph", "style", "class", "classdef", "click"}
_RESERVED |= {"linkstyle", "direction", "default", "node", "edge", "digraph", "strict"}
_SMALL = 4  # a tensor with at most this many elements shows its values


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


def _array_text(a: Any) -> str:
    import numpy as np

    arr = np.asarray(a)
    if arr.size > _SMALL:
        return f"shape {tuple(arr.shape)} {arr.dtype}"
    if arr.dtype.kind in "biuf":
        values = np.vectorize(
            lambda v: str(bool(v)) if arr.dtype.kind == "b" else format_number(float(v)),
            otypes=[object],
        )(arr)
        return _nested(values.tolist())
    return str(arr.tolist())


def _nested(x: Any) -> str:
    return "[" + ", ".join(_nested(v) for v in x) + "]" if isinstance(x, list) else str(x)


class _ScalarReader:
    def inputs(self, v: Value) -> Sequence[Any]:
        return v.inputs

    def kind(self, v: Value) -> str:
        return "const" if v.is_const else "input" if v.is_leaf else "result"

    def op(self, v: Value) -> str:
        return v.op

    def label(self, v: Value) -> str:
        return v.label

    def data(self, v: Value) -> str:
        return format_number(v.data)

    def grad(self, v: Value) -> str | None:
        return format_number(v.grad)


class _TensorReader:
    def inputs(self, t: Any) -> Sequence[Any]:
        if isinstance(t, _Const):
            return ()
        return tuple(p if _is_tensor(p) else _Const(p) for p in t._parents)

    def kind(self, t: Any) -> str:
        if isinstance(t, _Const):
            return "const"
        return "input" if t._op is None else "result"

    def op(self, t: Any) -> str:
        name = str(getattr(t._op, "name", t._op))
        return _OP_SYMBOLS.get(name, name)

    def label(self, t: Any) -> str:
        return "" if isinstance(t, _Const) else getattr(t, "label", None) or ""

    def data(self, t: Any) -> str:
        return _array_text(t.value if isinstance(t, _Const) else t.data)

    def grad(self, t: Any) -> str | None:
        g = None if isinstance(t, _Const) else t.grad
        return None if g is None else _array_text(getattr(g, "data", g))


class _TooLarge(Exception):
    pass


def trace(root: Any, max_nodes: int | None = None) -> list[Node]:
    """Every node ``root`` depends on, in topological order (``root`` last).

    ``root`` is a ``Value`` or a ``Tensor``. With ``max_nodes``, a larger
    graph raises ``ValueError`` instead of being read to the end.
    """
    if isinstance(root, Value):
        reader: Any = _ScalarReader()
    elif _is_tensor(root):
        reader = _TensorReader()
    else:
        raise TypeError(
            f"chainrule.viz draws the graph behind a Value or a Tensor, "
            f"got {type(root).__name__}; build the expression from Values or Tensors first"
        )
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
    kinds = [reader.kind(o) for o in objs]
    labels = [reader.label(o) for o in objs]
    ops = [reader.op(o) if k == "result" else "" for o, k in zip(objs, kinds, strict=True)]
    names = _names(objs, kinds, labels, reader)
    idents = _unique(
        [_ident_base(o, k, lab, n) for o, k, lab, n in zip(objs, kinds, labels, names, strict=True)]
        + [_op_word(op) for op in ops if op]
    )
    op_idents = iter(idents[len(objs) :])
    return [
        Node(
            index=i,
            obj=o,
            kind=k,
            op=op,
            name=names[i],
            ident=idents[i],
            op_ident=next(op_idents) if op else "",
            data=reader.data(o),
            grad=None if k == "const" else reader.grad(o),
            inputs=tuple(position[key] for key in inputs[order[i]]),
        )
        for i, (o, k, op) in enumerate(zip(objs, kinds, ops, strict=True))
    ]


def _names(objs: list[Any], kinds: list[str], labels: list[str], reader: Any) -> list[str]:
    """Labels where there are labels; v1, v2, ... (never a label) elsewhere."""
    taken = set(labels)
    counter = 0
    names = []
    for o, kind, label in zip(objs, kinds, labels, strict=True):
        if label:
            names.append(label)
        elif kind == "const":
            names.append(reader.data(o))
        else:
            counter += 1
            while f"v{counter}" in taken:
                counter += 1
            names.append(f"v{counter}")
    return names


def _ident_base(obj: Any, kind: str, label: str, name: str) -> str:
    if kind == "const" and not label:
        value = obj.data if isinstance(obj, Value) else getattr(obj, "value", None)
        if isinstance(value, (int, float)) and value == int(value) and 0 <= value <= 10:
            return _NUMBER_WORDS[int(value)]
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


# -- Mermaid -----------------------------------------------------------------
def _mermaid_text(text: str) -> str:
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def _box_lines(node: Node) -> list[str]:
    if node.kind == "const":
        return [node.data, "(const)"]
    lines = [node.name]
    lines.append(node.data if node.data.startswith("shape") else f"data: {node.data}")
    if node.grad is not None:
        lines.append(f"grad: {node.grad}")
    return lines


def mermaid(root: Any) -> str:
    """The graph behind ``root`` as Mermaid ``flowchart LR`` text.

    >>> x = Value(5.0, label="x"); y = x + 2; y.label = "y"
    >>> print(mermaid(y))
    flowchart LR
    x["x<br/>data: 5<br/>grad: 0"] --> plus(("+"))
    two["2<br/>(const)"] --> plus
    plus --> y["y<br/>data: 7<br/>grad: 0"]
    """
    nodes = trace(root)
    lines = ["flowchart LR"]
    drawn: set[str] = set()

    def ref(ident: str, shape: str) -> str:
        if ident in drawn:
            return ident
        drawn.add(ident)
        return ident + shape

    def box(node: Node) -> str:
        return ref(node.ident, '["' + "<br/>".join(map(_mermaid_text, _box_lines(node))) + '"]')

    for node in nodes:
        if node.kind == "result":
            circle = '(("' + _mermaid_text(node.op) + '"))'
            for i in node.inputs:
                lines.append(f"{box(nodes[i])} --> {ref(node.op_ident, circle)}")
            lines.append(f"{ref(node.op_ident, circle)} --> {box(node)}")
    if len(nodes) == 1:
        lines.append(box(nodes[0]))
    return "\n".join(lines)


def jupyter_markdown(root: Any, max_nodes: int = 300) -> str | None:
    """A fenced Mermaid block for notebooks; None for a graph too large to draw."""
    try:
        trace(root, max_nodes=max_nodes)
    except ValueError:
        return None
    return "```mermaid\n" + mermaid(root) + "\n```"


# -- Graphviz ----------------------------------------------------------------
def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def dot(root: Any) -> str:
    """The graph behind ``root`` as Graphviz DOT source (no Graphviz needed)."""
    nodes = trace(root)
    lines = ["digraph chainrule {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for node in nodes:
        label = "\\n".join(_dot_text(line) for line in _box_lines(node))
        style = ", style=dashed" if node.kind == "const" else ""
        lines.append(f'  "{node.ident}" [shape=box{style}, label="{label}"];')
        if node.kind == "result":
            lines.append(f'  "{node.op_ident}" [shape=circle, label="{_dot_text(node.op)}"];')
            for i in node.inputs:
                lines.append(f'  "{nodes[i].ident}" -> "{node.op_ident}";')
            lines.append(f'  "{node.op_ident}" -> "{node.ident}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(root: Any, path: str | Path, format: str | None = None) -> Path:
    """Draw the graph behind ``root`` into ``path`` (SVG, PNG or PDF) with Graphviz.

    The format comes from the file's suffix unless ``format`` is given. Needs
    the Graphviz ``dot`` program; without it, raises ``GraphvizNotFoundError``
    (``mermaid()`` and ``dot()`` need nothing installed).
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(
            f"render() writes svg, png or pdf, got {fmt or 'no suffix'!r} for {str(path)!r}; "
            "name the file e.g. 'graph.svg' or pass format='svg'"
        )
    source = dot(root)
    program = shutil.which("dot")
    if program is not None:
        result = subprocess.run(
            [program, f"-T{fmt}", "-o", str(path)], input=source.encode(), capture_output=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"Graphviz 'dot' failed: {result.stderr.decode().strip()}")
        return path
    try:
        import graphviz  # type: ignore[import-not-found]

        path.write_bytes(graphviz.Source(source).pipe(format=fmt))
        return path
    except (ImportError, RuntimeError, OSError):
        # graphviz, the Python package, only drives the same dot program.
        raise GraphvizNotFoundError(
            "render() needs Graphviz's 'dot' program, which is not on PATH. Install "
            "Graphviz (apt install graphviz, brew install graphviz or conda install "
            "graphviz), or use mermaid(root) / dot(root), which need nothing installed."
        ) from None
