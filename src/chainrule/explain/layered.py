"""A model's backward pass, layer by layer, as seed note 002 walks it:

1. the loss gradient, 2. back through the activation, 3. the weight gradient,
4. the bias gradient, 5. pass the gradient on to the layer before, 6. repeat.

The layers are the ``nn`` modules that built the graph (``viz/layers.py``);
an op made outside any module is a step of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..viz.layers import is_activation, is_loss
from ..viz.rules import through
from ..viz.trace import Node, expression
from ..viz.walk import Walk
from .tensor import LEGEND, not_run_note, t, total_lines, use_lines


@dataclass
class _Unit:
    title: str  # "fc1: Linear(3 → 2)", or an op outside any module: "v1 = relu(fc1.out)"
    output: int
    members: list[int]
    params: list[int] = field(default_factory=list)
    module: Any = None


def _units(w: Walk) -> list[_Unit]:
    units = [_Unit(c.title, c.output, c.members, c.params, c.module) for c in w.graph.layers.calls]
    for node in w.nodes:
        if node.kind == "result" and node.layer == -1:
            units.append(_Unit(f"{node.name} = {expression(node, w.nodes)}", node.index,
                               [node.index]))
    return sorted(units, key=lambda u: u.output, reverse=True)


def _inputs_from_outside(unit: _Unit, nodes: list[Node]) -> list[int]:
    inside = set(unit.members) | set(unit.params)
    found: list[int] = []
    for j in unit.members:
        for i in nodes[j].inputs:
            if i not in inside and nodes[i].kind != "const" and i not in found:
                found.append(i)
    return sorted(found, reverse=True)


def _param_step(name: str) -> str:
    if name.endswith("weight"):
        return f"the weight gradient, {name}"
    if name.endswith("bias"):
        return f"the bias gradient, {name}"
    return f"the gradient of {name}"


def explain_layers(w: Walk) -> str:
    nodes, root = w.nodes, w.root
    L = root.name
    units = _units(w)
    forward = "; ".join(
        (f"{u.title} gives {nodes[u.output].name}" if u.module is not None else u.title)
        + f" = {t(nodes[u.output].value)}" for u in reversed(units)
    )
    out = [f"# Backward pass from {L}, layer by layer", "", f"Forward pass: {forward}.", ""]
    out += not_run_note(w)
    out += [
        f"Going backwards from {L}, one layer at a time: the gradient arriving at a layer's "
        "output goes back through its operations (each rule in its vector or matrix form, "
        "with the numbers plugged in) to its parameters, which get their gradients, and to "
        "its input, which passes the gradient on to the layer before. " + LEGEND,
        "",
    ]
    step = 0
    for unit in units:
        output = nodes[unit.output]
        inner = [j for j in sorted(unit.members, reverse=True) if j != unit.output
                 and nodes[j].kind == "result" and w.uses[j]]
        outside = _inputs_from_outside(unit, nodes)
        params = [p for p in unit.params if w.uses[p]]
        arriving = _arriving(w, output, L)
        if params:  # a layer with parameters: a step for each, then passing the gradient on
            body = [*arriving, *_inner_lines(w, inner, L)]
            for p in params:
                step += 1
                out += [f"## {step}. {unit.title}: {_param_step(nodes[p].name)}", "", *body]
                out += [*_paths_into(w, nodes[p], unit), "", *total_lines(w, nodes[p], L), ""]
                body = []
            for i in outside:
                step += 1
                out += [f"## {step}. {unit.title}: pass the gradient on, to {nodes[i].name}", ""]
                out += [*_pass_on(w, nodes[i], unit, L), ""]
            continue
        step += 1
        out += [f"## {step}. {_heading(unit, output is root)}", "", *arriving]
        out += _inner_lines(w, inner, L)
        out += _closed_form(w, unit, L)
        for i in outside:
            if w.uses[i]:  # an input that needs no gradient (a target, data) is left out
                out += [f"What comes back to {nodes[i].name}:", *_pass_on(w, nodes[i], unit, L),
                        ""]
    return "\n".join(out).rstrip() + "\n"


def _heading(unit: _Unit, is_root: bool) -> str:
    if unit.module is not None and is_loss(unit.module):
        return f"The loss gradient: {unit.title}"
    if unit.module is not None and is_activation(unit.module):
        return f"Back through the activation: {unit.title}"
    return f"Back through {unit.title}"


def _arriving(w: Walk, output: Node, L: str) -> list[str]:
    if output is w.root:
        return [f"The starting point: ∂{L}/∂{L} = **{t(w.grads[output.index])}**.", ""]
    uses = w.uses[output.index]
    intro = f"The gradient arriving at {output.name}"
    if len(uses) > 1:
        intro += f", which is used {len(uses)} times (the sum of its paths)"
    return [intro + ":", "", *total_lines(w, output, L), ""]


def _inner_lines(w: Walk, inner: list[int], L: str) -> list[str]:
    lines: list[str] = []
    for j in inner:
        node = w.nodes[j]
        lines.append(f"Inside: {node.name} = {expression(node, w.nodes)} = {t(node.value)}")
        uses = w.uses[j]
        for use in uses:
            twice = sum(1 for u in uses if u.consumer is use.consumer) > 1
            lines += use_lines(use, node, w.nodes, twice)
        lines += ["", *total_lines(w, node, L), ""]
    return lines


def _paths_into(w: Walk, node: Node, unit: _Unit) -> list[str]:
    uses = w.uses[node.index]
    lines: list[str] = []
    for use in uses:
        twice = sum(1 for u in uses if u.consumer is use.consumer) > 1
        lines += use_lines(use, node, w.nodes, twice)
    return lines


def _pass_on(w: Walk, node: Node, unit: _Unit, L: str) -> list[str]:
    """What a layer sends back to one of its inputs (even one backward() skips)."""
    members = set(unit.members)
    here = [u for u in w.uses[node.index] if u.consumer.index in members]
    lines: list[str] = []
    for use in here:
        twice = sum(1 for u in here if u.consumer is use.consumer) > 1
        lines += use_lines(use, node, w.nodes, twice)
    if here:
        others = len(w.uses[node.index]) - len(here)
        if others:
            lines.append(f"({node.name} also gets gradients along {others} other path(s); "
                         "they add up where it was made.)")
        return lines
    for j in sorted(members, reverse=True):  # an input that needs no gradient
        consumer = w.nodes[j]
        g = w.grads[j]
        if g is None:
            continue
        for pos, i in enumerate(consumer.inputs):
            if i == node.index:
                told = through(consumer, pos, g, w.nodes, L)
                lines.append(f"- {told.rule}")
                lines += [f"  - {text}" for text in told.numbers]
    lines.append(f"{node.name} does not require a gradient (requires_grad=False), so "
                 "backward() stops here: this is what a layer before it would receive.")
    return lines


def _closed_form(w: Walk, unit: _Unit, L: str) -> list[str]:
    """MSELoss at once: ∂L/∂ŷ = 2·(ŷ − t)/n, which the steps above add up to."""
    if unit.module is None or type(unit.module).__name__ != "MSELoss":
        return []
    if getattr(unit.module, "reduction", "mean") != "mean":
        return []
    nodes = w.nodes
    diffs = [nodes[j] for j in unit.members if nodes[j].op_name == "sub"]
    if len(diffs) != 1:
        return []
    d = diffs[0]
    yhat, target = (nodes[i] for i in d.inputs)
    n = np.asarray(d.value).size
    value = 2 * np.asarray(d.value) / n
    return [
        f"In one line, MSELoss's rule: ∂{L}/∂{yhat.name} = 2·({yhat.name} − {target.name}) / n "
        f"= 2·{t(d.value)} / {n} = {t(value)}", "",
    ]
