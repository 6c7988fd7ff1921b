"""Each tensor op's backward rule with the numbers plugged in.

Given a node ``y = op(...)``, one of its inputs and the gradient ``G`` =
∂L/∂y arriving at it, ``through(...)`` says what comes back to that input: the
rule in its vector or matrix form (∂L/∂W = Gᵀ·X, σ' = y(1 − y) ⊙ G, a bias
gradient summed over the batch) and the same with the numbers of this graph.
The words come from the op registry (``Op.formula``) wherever they can; the
numbers are computed here, per op family, with NumPy. An op no family knows
still gets its registry formula and the numbers its own rule gives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import backend
from .numbers import array_text, format_number
from .trace import Node

# The letters a registry formula uses for the inputs of an op, in order.
_LETTERS = {1: ("x",), 2: ("a", "b"), 3: ("c", "a", "b")}
_SYMBOL = re.compile(r"(?<![A-Za-z∂])([xyabc])(?![A-Za-z])")


@dataclass
class Through:
    """What comes back to one input of a node: the rule, and the rule with numbers."""

    value: Any  # ∂L/∂input along this path, in the input's shape (None: not known)
    rule: str  # in symbols with this graph's names: "∂L/∂W = (∂L/∂Y)ᵀ · X"
    numbers: list[str] = field(default_factory=list)  # the same with the numbers plugged in
    local: str = ""  # an elementwise op's local derivative, with its numbers

    def product(self) -> str:
        return self.numbers[-1] if self.numbers else ""


def _t(a: Any) -> str:
    """An operand: its numbers, or its summary in ⟨ ⟩ so a formula stays readable."""
    text = array_text(a)
    return f"⟨{text}⟩" if text.startswith("shape") else text


def _d(root: str, name: str) -> str:
    return f"∂{root}/∂{name}"


def through(node: Node, pos: int, g: Any, nodes: Sequence[Node], root: str) -> Through:
    """What ``node``'s backward rule sends to its input ``pos`` given ``g`` = ∂root/∂node."""
    op = node.obj._node[0] if getattr(node.obj, "_node", None) else None
    ins = [np.asarray(nodes[i].value) for i in node.inputs]
    params = node.obj._node[4] if op is not None else {}
    x = nodes[node.inputs[pos]]
    g = np.asarray(g)
    try:
        if node.op_name == "linear" and ins[0].ndim == 2:
            return _linear(node, pos, g, ins, nodes, root)
        if node.op_name == "matmul" and ins[0].ndim == 2 and ins[1].ndim == 2:
            return _matmul(node, pos, g, ins, nodes, root)
        if node.op_name in ("sum", "mean"):
            return _reduction(node, g, ins[0], params, x, root)
        if op is not None and getattr(op, "elementwise", False):
            return _elementwise(node, pos, g, ins, op, params, nodes, root)
    except Exception:  # noqa: BLE001 - an unusual case of a known family: say it generically
        pass
    return _generic(node, pos, g, ins, op, params, nodes, root)


# ---------------------------------------------------------------- families
def _linear(node: Node, pos: int, g: Any, ins: list, nodes: Sequence[Node], root: str) -> Through:
    X, W = ins[0], ins[1]
    x, w, y = nodes[node.inputs[0]].name, nodes[node.inputs[1]].name, node.name
    G = _d(root, y)
    if pos == 0:
        value = g @ W
        return Through(value, f"{_d(root, x)} = {G} · {w}", [f"{_t(g)} · {_t(W)} = {_t(value)}"])
    if pos == 1:
        value = g.T @ X
        return Through(value, f"{_d(root, w)} = ({G})ᵀ · {x}, i.e. ({x}ᵀ · {G})ᵀ: the weight "
                       "is (out, in), as in PyTorch",
                       [f"{_t(g)}ᵀ · {_t(X)} = {_t(value)}"])
    value = g.sum(axis=0)
    return Through(value, f"{_d(root, nodes[node.inputs[2]].name)} = Σ over the batch of {G}",
                   [_sum_rows(g, value)])


def _sum_rows(g: Any, value: Any) -> str:
    if g.shape[0] <= 8:
        return " + ".join(_t(row) for row in g) + f" = {_t(value)}"
    return f"the sum of the {g.shape[0]} rows of {_t(g)} = {_t(value)}"


def _matmul(node: Node, pos: int, g: Any, ins: list, nodes: Sequence[Node], root: str) -> Through:
    A, B = ins
    a, b = nodes[node.inputs[0]].name, nodes[node.inputs[1]].name
    G = _d(root, node.name)
    if pos == 0:
        value = g @ B.T
        return Through(value, f"{_d(root, a)} = {G} · {b}ᵀ", [f"{_t(g)} · {_t(B)}ᵀ = {_t(value)}"])
    value = A.T @ g
    return Through(value, f"{_d(root, b)} = {a}ᵀ · {G}", [f"{_t(A)}ᵀ · {_t(g)} = {_t(value)}"])


def _reduction(node: Node, g: Any, X: Any, params: dict, x: Node, root: str) -> Through:
    axes = tuple(params.get("axes", range(-X.ndim, 0)))
    keep = params.get("keepdims", False)
    n = int(np.prod([X.shape[a] for a in axes])) if axes else 1
    lined = g if keep or g.ndim == 0 else np.expand_dims(g, axes)
    value = np.broadcast_to(lined, X.shape).astype(g.dtype)
    where = "to every entry" if len(axes) == X.ndim else f"along axis {_axes(axes, X.ndim)}"
    G = _d(root, node.name)
    if node.op_name == "mean":
        value = value / n
        return Through(value, f"{_d(root, x.name)} = {G} / n, copied back {where} (n = {n})",
                       [f"{_t(g)} / {n} → {_t(value)}"])
    return Through(value, f"{_d(root, x.name)} = {G}, copied back {where}",
                   [f"{_t(g)} → {_t(value)}"])


def _axes(axes: tuple, ndim: int) -> str:
    return ", ".join(str(a % ndim) for a in axes)


def _elementwise(node: Node, pos: int, g: Any, ins: list, op: Any, params: dict,
                 nodes: Sequence[Node], root: str) -> Through:
    out = np.asarray(node.value)
    local = np.broadcast_to(_rule(op, pos, np.ones_like(out), out, ins, params), out.shape)
    full = local * g
    x = nodes[node.inputs[pos]]
    value, summed = _unbroadcast(full, ins[pos].shape)
    formula = _local_formula(node, pos, op, nodes)
    G = _d(root, node.name)
    said = formula if formula is not None else f"∂{node.name}/∂{x.name}"
    if formula in ("1", "-1"):
        rule = f"{_d(root, x.name)} = {'-' if formula == '-1' else ''}{G}"
        numbers = [f"the upstream gradient passes unchanged: {_t(full)}" if formula == "1"
                   else f"-{_t(g)} = {_t(full)}"]
    else:
        rule = f"{_d(root, x.name)} = {said} ⊙ {G}"
        times = "×" if full.size == 1 else "⊙"
        numbers = [f"{_t(local)} {times} {_t(g)} = {_t(full)}"]
    if summed:
        where = _axes(summed, full.ndim)
        numbers.append(
            f"summed over axis {where}, where {x.name} {tuple(ins[pos].shape)} was broadcast "
            f"to {tuple(full.shape)}: {_t(value)}"
        )
    local_text = f"∂{node.name}/∂{x.name} = {said}"
    if formula not in ("1", "-1"):
        local_text += f" = {_t(local)}"
    return Through(value, rule, numbers, local_text)


def _unbroadcast(full: Any, shape: tuple) -> tuple[Any, tuple[int, ...]]:
    """``full`` summed down to ``shape``, and the axes (of ``full``) it was summed over."""
    lead = full.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and full.shape[lead + i] != 1
    )
    if not axes:
        return full, ()
    return full.sum(axis=axes).reshape(shape), axes


def _generic(node: Node, pos: int, g: Any, ins: list, op: Any, params: dict,
             nodes: Sequence[Node], root: str) -> Through:
    x = nodes[node.inputs[pos]]
    formula = getattr(op, "formula", "") or f"the rule of {node.op_name or node.op}"
    try:
        value = _rule(op, pos, g, np.asarray(node.value), ins, params)
        value = backend.sum_to(np.asarray(value), tuple(ins[pos].shape))
    except Exception:  # noqa: BLE001 - e.g. a gate whose saved tensors were released
        return Through(None, f"{_d(root, x.name)} by {formula}",
                       [f"(its numbers cannot be recomputed here; G = {_t(g)})"])
    return Through(value, f"{_d(root, x.name)} by {formula}",
                   [f"with G = {_d(root, node.name)} = {_t(g)}: {_t(value)}"])


def _rule(op: Any, pos: int, g: Any, out: Any, ins: list, params: dict) -> Any:
    needs = [j == pos for j in range(len(ins))]
    with np.errstate(all="ignore"):
        return op.vjp_all(backend, g, out, tuple(ins), params, needs)[pos]


# ---------------------------------------------------------------- local derivatives
def _local_formula(node: Node, pos: int, op: Any, nodes: Sequence[Node]) -> str | None:
    """An elementwise op's local derivative ∂y/∂(input pos) as a formula in this graph's
    names, read off its registry formula (``∂L/∂x = g·y·(1 - y)`` gives ``y·(1 - y)``)."""
    names = [nodes[i].name for i in node.inputs]
    if node.op_name == "pow" and pos == 0 and nodes[node.inputs[1]].kind == "const":
        n = float(np.asarray(nodes[node.inputs[1]].value))
        if n - 1 in (0, 1):
            return format_number(n) + ("·" + names[0] if n - 1 else "")
        return f"{format_number(n)}·{names[0]}^{format_number(n - 1)}"
    letters = _LETTERS.get(len(names))
    formula = getattr(op, "formula", "")
    if letters is None or ";" not in formula:
        return None
    rules = formula.split(";", 1)[1].split("  (")[0]
    found = {}
    for part in rules.split(",  "):
        lhs, _, rhs = part.partition(" = ")
        found[lhs.strip().removeprefix("∂L/∂")] = rhs.strip()
    expr = found.get(letters[pos])
    if expr is None:
        return None
    local = _drop_g(expr)
    if local is None:
        return None
    table = dict(zip(letters, names, strict=True))
    table["y"] = node.name
    return _SYMBOL.sub(lambda m: table.get(m.group(1), m.group(1)), local)


def _drop_g(expr: str) -> str | None:
    """``g·y·(1 - y)`` → ``y·(1 - y)``: the rule without its upstream gradient g."""
    sign = ""
    if expr.startswith("-"):
        sign, expr = "-", expr[1:]
    if expr == "g":
        return sign + "1"
    if expr.startswith("g·"):
        return sign + expr[2:]
    if expr.startswith("g / "):
        return sign + "1 / " + expr[4:]
    return None
