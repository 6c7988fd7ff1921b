"""``explain(root)``: the backward pass told step by step, in Markdown.

It walks the graph from the root back to the inputs, as the seed notes do by
hand. For each node it gives the local derivative of every operation the node
feeds, the upstream gradient arriving there, their product, and, when the
node feeds several operations, the sum over those paths::

    ### x = 5 (input)
    x is used 2 times, so its gradient adds up the paths:
    - path through y = x + 2: local ∂y/∂x = 1, upstream ∂L/∂y = 15 → 1 × 15 = 15
    - path through z = x × 3: local ∂z/∂x = 3, upstream ∂L/∂z = 7 → 3 × 7 = 21

    ∂L/∂x = 15 + 21 = **36**

It computes every number it prints from the graph itself (the local
derivatives each gate cached), so it works before ``backward()`` too and never
changes a ``.grad``. For a tensor graph it gives each node's shape and how
the gradient flows, without the arithmetic.
"""

from __future__ import annotations

import re
from typing import Any

from .scalar import RULES, Value
from .viz import Node, format_number, trace

__all__ = ["explain"]


def explain(root: Any) -> str:
    """Markdown that walks the backward pass from ``root`` node by node.

    >>> x = Value(5.0, label="x"); y = x * 3; y.label = "y"
    >>> print(explain(y).splitlines()[-1])
    ∂y/∂x = **3**
    """
    nodes = trace(root)
    if isinstance(root, Value):
        return _explain_scalar(nodes)
    return _explain_tensor(nodes)


def _num(x: float) -> str:
    text = format_number(x)
    return f"({text})" if text.startswith("-") else text


def _expression(node: Node, nodes: list[Node]) -> str:
    """How ``node`` was computed, with its inputs' names: ``x + 2``, ``tanh(v1)``."""
    args = [nodes[i].name for i in node.inputs]
    if len(args) == 2 and node.op in ("+", "-", "×", "/", "@"):
        return f"{args[0]} {node.op} {args[1]}"
    if node.op == "neg":
        return f"-{args[0]}"
    if node.op.startswith("**"):
        return f"{args[0]} ** {node.op[2:]}"
    return f"{node.op}({', '.join(args)})"


def _heading(node: Node, nodes: list[Node]) -> str:
    value = f", {node.data}" if node.data.startswith("shape") else f" = {node.data}"
    if node.kind == "result":
        return f"### {node.name} = {_expression(node, nodes)}{value}"
    return f"### {node.name}{value} (input)"


def _explain_scalar(nodes: list[Node]) -> str:
    root = nodes[-1]
    L = root.name
    grad = [0.0] * len(nodes)
    grad[root.index] = 1.0
    # paths[i]: (consumer, which input of it, local derivative) for each use of node i
    paths: list[list[tuple[Node, int, float]]] = [[] for _ in nodes]
    for node in reversed(nodes):  # every consumer comes before what it consumes
        for pos, (i, local) in enumerate(zip(node.inputs, node.obj.local_grads, strict=True)):
            paths[i].append((node, pos, local))
            grad[i] += local * grad[node.index]

    results = [n for n in nodes if n.kind == "result"]
    out = [f"# Backward pass from {L}", ""]
    if results:
        forward = ", ".join(f"{n.name} = {_expression(n, nodes)} = {n.data}" for n in results)
        out += [f"Forward pass: {forward}.", ""]
    out += [
        f"Going backwards from {L}, the gradient ∂{L}/∂n of each node n is the local "
        "derivative of the operation n feeds times the upstream gradient arriving "
        f"there; a node that feeds several operations adds up one such product per path to {L}.",
        "",
    ]
    for node in reversed(nodes):
        if node.kind == "const":
            continue
        out.append(_heading(node, nodes))
        if node is root:
            out += [f"The starting point: ∂{L}/∂{L} = **1**.", ""]
            continue
        uses = sorted(paths[node.index], key=lambda use: use[0].index)
        terms = []
        if len(uses) > 1:
            out.append(f"{node.name} is used {len(uses)} times, so its gradient adds up the paths:")
        for consumer, pos, local in uses:
            upstream = grad[consumer.index]
            twice = sum(1 for c, _, _ in uses if c is consumer) > 1
            where = f" (its {'first' if pos == 0 else 'second'} input)" if twice else ""
            formula = _derivative_text(consumer, pos, nodes)
            value = format_number(local)
            said = value if formula == value else f"{formula} = {value}"
            terms.append(local * upstream)
            out.append(
                f"- path through {consumer.name} = {_expression(consumer, nodes)}{where}: "
                f"local ∂{consumer.name}/∂{node.name} = {said}, "
                f"upstream ∂{L}/∂{consumer.name} = {format_number(upstream)} "
                f"→ {_num(local)} × {_num(upstream)} = {format_number(local * upstream)}"
            )
        total = format_number(grad[node.index])
        if len(terms) > 1:
            summed = " + ".join(_num(t) for t in terms)
            out += ["", f"∂{L}/∂{node.name} = {summed} = **{total}**", ""]
        else:
            out += ["", f"∂{L}/∂{node.name} = **{total}**", ""]
    return "\n".join(out).rstrip() + "\n"


def _derivative_text(node: Node, pos: int, nodes: list[Node]) -> str:
    """The local derivative ∂node/∂(its input ``pos``) as a formula: ``z``, ``1 / x``, ..."""
    names = {"x": nodes[node.inputs[0]].name, "y": nodes[node.inputs[-1]].name, "out": node.name}
    if node.op.startswith("**"):
        n = float(node.op[2:])
        if n - 1 in (0, 1):  # 1·x^0 and 2·x^1 read better as 1 and 2·x
            return format_number(n) + ("·" + names["x"] if n - 1 else "")
        return f"{format_number(n)}·{names['x']}^{format_number(n - 1)}"
    formula = RULES[node.op].derivatives[pos]
    formula = re.sub(r"\b(\d+)\.0\b", r"\1", formula).replace(" * ", "·")
    return re.sub(r"\b(x|y|out)\b", lambda m: names[m.group()], formula)


def _explain_tensor(nodes: list[Node]) -> str:
    root = nodes[-1]
    L = root.name
    consumers: list[list[Node]] = [[] for _ in nodes]
    for node in nodes:
        for i in node.inputs:
            consumers[i].append(node)
    out = [
        f"# Backward pass from {L}",
        "",
        f"Going backwards from {L}: each operation turns the gradient arriving at its "
        "output into one gradient per input, of that input's shape (summing over the "
        "axes that broadcasting expanded); a tensor used several times adds up "
        "what comes back along each path.",
        "",
    ]
    for node in reversed(nodes):
        if node.kind == "const":
            continue
        out.append(_heading(node, nodes))
        shape = getattr(node.obj, "shape", None)
        if node is root:
            out.append(f"The starting point: ∂{L}/∂{L}, of shape {shape}.")
        else:
            uses = consumers[node.index]
            counts = {c.index: uses.count(c) for c in uses}
            via = ", ".join(
                f"{nodes[i].name} = {_expression(nodes[i], nodes)}"
                + (f" ({k} times)" if k > 1 else "")
                for i, k in counts.items()
            )
            if len(uses) > 1:
                out.append(
                    f"{node.name} is used {len(uses)} times, in {via}; ∂{L}/∂{node.name} is the "
                    f"sum of the {len(uses)} gradients that come back, shape {shape}."
                )
            else:
                out.append(f"∂{L}/∂{node.name} comes back through {via}, shape {shape}.")
        if node.grad is not None:
            out.append(f"After backward(), {node.name}.grad is {node.grad}.")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
