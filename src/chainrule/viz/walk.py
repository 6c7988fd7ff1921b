"""The backward pass as a learner follows it: node by node, from the output back.

``walk(root)`` computes, for every node, the gradient of the root with
respect to it and, for each operation the node feeds, what comes back along
that path: the local derivative, the upstream gradient, their product. A
node that feeds several operations adds these products up. ``explain``
writes this down in words and ``html`` steps through it.

A scalar graph's local derivatives were cached by its gates, so its walk
needs no ``backward()``. A tensor graph's are worked out by ``rules.py``
from the values the graph holds. Neither changes any ``.grad``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..scalar import RULES
from .numbers import format_number
from .rules import Through, through
from .trace import Graph, Node, read


@dataclass
class Use:
    """One path back from a consumer to one of its inputs."""

    consumer: Node
    position: int  # which input of the consumer
    upstream: Any  # the gradient arriving at the consumer, ∂root/∂consumer
    product: Any  # what comes back along this path (None when not known)
    local: Any = None  # a scalar gate's local derivative (a number)
    local_text: str = ""  # a scalar gate's local derivative as a formula, e.g. "y"
    rule: Through | None = None  # a tensor op's rule, with its numbers


@dataclass
class Walk:
    graph: Graph
    grads: list[Any]  # ∂root/∂node for every node (None: none, or not known)
    uses: list[list[Use]]  # for every node, its paths back, by consumer

    @property
    def nodes(self) -> list[Node]:
        return self.graph.nodes

    @property
    def root(self) -> Node:
        return self.graph.nodes[-1]

    def order(self) -> list[Node]:
        """The nodes that get a gradient, root first, each after all its consumers."""
        return [n for n in reversed(self.nodes) if n.kind != "const" and self.wanted(n)]

    def wanted(self, node: Node) -> bool:
        return node is self.root or bool(self.uses[node.index])


def walk(root: Any, max_nodes: int | None = None) -> Walk:
    graph = read(root, max_nodes)
    return _scalar(graph) if graph.scalar else _tensor(graph)


def _scalar(graph: Graph) -> Walk:
    nodes = graph.nodes
    grads: list[Any] = [0.0] * len(nodes)
    grads[-1] = 1.0
    uses: list[list[Use]] = [[] for _ in nodes]
    for node in reversed(nodes):  # every consumer comes before what it consumes
        upstream = grads[node.index]
        for pos, (i, local) in enumerate(zip(node.inputs, node.obj.local_grads, strict=True)):
            if nodes[i].kind == "const":
                continue
            uses[i].append(Use(node, pos, upstream, local * upstream, local,
                               derivative_text(node, pos, nodes)))
            grads[i] += local * upstream
    for u in uses:
        u.sort(key=lambda use: use.consumer.index)
    return Walk(graph, grads, uses)


def _tensor(graph: Graph) -> Walk:
    nodes = graph.nodes
    root = nodes[-1]
    grads: list[Any] = [None] * len(nodes)
    seed = root.gradient if root.gradient is not None else np.ones_like(np.asarray(root.value))
    grads[-1] = np.asarray(seed)
    uses: list[list[Use]] = [[] for _ in nodes]
    unknown: set[int] = set()
    for node in reversed(nodes):
        if node.index in unknown:  # a rule we could not follow: take the engine's gradient
            grads[node.index] = node.gradient
        g = grads[node.index]
        if g is None or node.kind != "result":
            continue
        for pos, i in enumerate(node.inputs):
            x = nodes[i]
            if x.kind == "const" or not x.requires_grad:
                continue
            told = through(node, pos, g, nodes, root.name)
            uses[i].append(Use(node, pos, g, told.value, rule=told))
            if told.value is None:
                unknown.add(i)
            elif i not in unknown:
                total = grads[i]
                value = np.asarray(told.value)
                grads[i] = value if total is None else total + value
    for u in uses:
        u.sort(key=lambda use: use.consumer.index)
    return Walk(graph, grads, uses)


def derivative_text(node: Node, pos: int, nodes: list[Node]) -> str:
    """A scalar gate's local derivative ∂node/∂(its input ``pos``) as a formula:
    ``z``, ``1 / x``, ``2·x``..."""
    names = {"x": nodes[node.inputs[0]].name, "y": nodes[node.inputs[-1]].name, "out": node.name}
    if node.op.startswith("**"):
        n = float(node.op[2:])
        if n - 1 in (0, 1):  # 1·x^0 and 2·x^1 read better as 1 and 2·x
            return format_number(n) + ("·" + names["x"] if n - 1 else "")
        return f"{format_number(n)}·{names['x']}^{format_number(n - 1)}"
    formula = RULES[node.op].derivatives[pos]
    formula = re.sub(r"\b(\d+)\.0\b", r"\1", formula).replace(" * ", "·")
    return re.sub(r"\b(x|y|out)\b", lambda m: names[m.group()], formula)
