"""A scalar graph's backward pass in words, node by node, as seed note 003 does it."""

from __future__ import annotations

from ..viz.numbers import format_number
from ..viz.trace import Node, expression
from ..viz.walk import Walk


def num(x: float) -> str:
    text = format_number(x)
    return f"({text})" if text.startswith("-") else text


def heading(node: Node, nodes: list[Node], value: str) -> str:
    if node.kind == "result":
        return f"### {node.name} = {expression(node, nodes)} = {value}"
    return f"### {node.name} = {value} (input)"


def explain_scalar(w: Walk) -> str:
    nodes, root = w.nodes, w.root
    L = root.name
    results = [n for n in nodes if n.kind == "result"]
    out = [f"# Backward pass from {L}", ""]
    if results:
        forward = ", ".join(f"{n.name} = {expression(n, nodes)} = {n.data}" for n in results)
        out += [f"Forward pass: {forward}.", ""]
    out += [
        f"Going backwards from {L}, the gradient ∂{L}/∂n of each node n is the local "
        "derivative of the operation n feeds times the upstream gradient arriving "
        f"there; a node that feeds several operations adds up one such product per path to {L}.",
        "",
    ]
    for node in w.order():
        out.append(heading(node, nodes, node.data))
        if node is root:
            out += [f"The starting point: ∂{L}/∂{L} = **1**.", ""]
            continue
        uses = w.uses[node.index]
        if len(uses) > 1:
            out.append(f"{node.name} is used {len(uses)} times, so its gradient adds up the paths:")
        for use in uses:
            consumer = use.consumer
            twice = sum(1 for u in uses if u.consumer is consumer) > 1
            where = f" (its {'first' if use.position == 0 else 'second'} input)" if twice else ""
            value = format_number(use.local)
            said = value if use.local_text == value else f"{use.local_text} = {value}"
            out.append(
                f"- path through {consumer.name} = {expression(consumer, nodes)}{where}: "
                f"local ∂{consumer.name}/∂{node.name} = {said}, "
                f"upstream ∂{L}/∂{consumer.name} = {format_number(use.upstream)} "
                f"→ {num(use.local)} × {num(use.upstream)} = {format_number(use.product)}"
            )
        total = format_number(w.grads[node.index])
        if len(uses) > 1:
            summed = " + ".join(num(u.product) for u in uses)
            out += ["", f"∂{L}/∂{node.name} = {summed} = **{total}**", ""]
        else:
            out += ["", f"∂{L}/∂{node.name} = **{total}**", ""]
    return "\n".join(out).rstrip() + "\n"
