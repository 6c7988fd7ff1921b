"""A tensor graph's backward pass in words, node by node, with every number."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..viz.numbers import array_text
from ..viz.trace import Node, expression
from ..viz.walk import Use, Walk

LEGEND = (
    "⊙ is the elementwise product, · the matrix product and ᵀ the transpose; "
    "a tensor with more than 64 entries is shown by its shape, first entries and norm."
)


def t(a: Any) -> str:
    return array_text(a)


def heading(node: Node, nodes: list[Node], level: str = "###") -> str:
    value = t(node.value)
    if node.kind == "result":
        return f"{level} {node.name} = {expression(node, nodes)} = {value}"
    return f"{level} {node.name} = {value} (input)"


def not_run_note(w: Walk) -> list[str]:
    if w.graph.ran:
        return []
    return [
        f"backward() has not run from {w.root.name} yet, so no .grad is filled in; the "
        "gradients below are computed here from the graph, as backward() will compute them.",
        "",
    ]


def use_lines(use: Use, node: Node, nodes: list[Node], twice: bool) -> list[str]:
    """One path back from a consumer: the rule in symbols, then with its numbers."""
    consumer = use.consumer
    where = f" (its {_ordinal(use.position)} input)" if twice else ""
    rule = use.rule
    assert rule is not None
    lines = [f"- path through {consumer.name} = {expression(consumer, nodes)}{where}: {rule.rule}"]
    if rule.local:
        lines.append(f"  - local {rule.local}")
    for text in rule.numbers:
        lines.append(f"  - {text}")
    return lines


def _ordinal(i: int) -> str:
    return ("first", "second", "third", "fourth")[i] if i < 4 else f"#{i + 1}"


def total_lines(w: Walk, node: Node, L: str) -> list[str]:
    """The node's gradient: the sum over its paths, spelled out, and what backward() left."""
    uses = w.uses[node.index]
    total = w.grads[node.index]
    if total is None:
        return [f"∂{L}/∂{node.name} could not be followed here."]
    if len(uses) > 1 and all(u.product is not None for u in uses):
        summed = " + ".join(t(u.product) for u in uses)
        lines = [f"∂{L}/∂{node.name} = {summed} = **{t(total)}**"]
    else:
        lines = [f"∂{L}/∂{node.name} = **{t(total)}**"]
    engine = node.gradient
    if engine is not None and w.graph.ran:
        same = np.shape(engine) == np.shape(total) and np.allclose(
            engine, total, rtol=1e-4, atol=1e-6, equal_nan=True)
        what = f"{node.name}.grad" if node.kind == "input" else "the gradient it received"
        if not same:
            lines.append(f"(backward() left {t(engine)} as {what}: the graph or its values "
                         "changed since, or backward() ran more than once.)")
        elif node.kind == "input":
            lines.append(f"After backward(), {node.name}.grad is {t(engine)}.")
    return lines


def explain_tensor(w: Walk) -> str:
    nodes, root = w.nodes, w.root
    L = root.name
    results = [n for n in nodes if n.kind == "result"]
    out = [f"# Backward pass from {L}", ""]
    if results:
        forward = "; ".join(f"{n.name} = {expression(n, nodes)} = {t(n.value)}" for n in results)
        out += [f"Forward pass: {forward}.", ""]
    out += not_run_note(w)
    out += [
        f"Going backwards from {L}: each operation turns the gradient arriving at its "
        f"output, ∂{L}/∂y, into one gradient per input, of that input's shape: its rule, "
        "below in its vector or matrix form with the numbers plugged in. An input that "
        "broadcasting expanded gets its gradient summed back to its shape; a tensor used "
        "several times adds up what comes back along each path. " + LEGEND,
        "",
    ]
    for node in w.order():
        out.append(heading(node, nodes))
        if node is root:
            out += [f"The starting point: ∂{L}/∂{L} = **{t(w.grads[node.index])}**.", ""]
            continue
        uses = w.uses[node.index]
        if len(uses) > 1:
            out.append(f"{node.name} is used {len(uses)} times, so its gradient adds up the paths:")
        for use in uses:
            twice = sum(1 for u in uses if u.consumer is use.consumer) > 1
            out += use_lines(use, node, nodes, twice)
        out += ["", *total_lines(w, node, L), ""]
    return "\n".join(out).rstrip() + "\n"
