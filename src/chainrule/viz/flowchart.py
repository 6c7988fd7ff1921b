"""``mermaid(root)``: the graph as Mermaid text, in the style of hand-made notes::

    flowchart LR
    a["a<br/>data: 3<br/>grad: 4"] --> plus(("+"))
    b["b<br/>data: 2<br/>grad: 4"] --> plus
    plus --> c["c<br/>data: 5<br/>grad: 4"]

one box per node (label, data, grad), one circle per operation, numbers mixed
into an expression as ``(const)`` boxes. The layers of a model are boxes
around their parameters and ops (``subgraph``).
"""

from __future__ import annotations

from typing import Any

from .trace import Graph, Node, read


def _mermaid_text(text: str) -> str:
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def box_lines(node: Node) -> list[str]:
    """The lines of a node's box: its name, its data and its gradient."""
    if node.kind == "const":
        return [node.data, "(const)"]
    lines = [node.name]
    lines.append(node.data if node.data.startswith("shape") else f"data: {node.data}")
    if node.grad is not None:
        lines.append(f"grad: {node.grad}")
    return lines


def mermaid(root: Any) -> str:
    """The graph behind ``root`` as Mermaid ``flowchart LR`` text.

    >>> from chainrule import Value
    >>> x = Value(5.0, label="x"); y = x + 2; y.label = "y"
    >>> print(mermaid(y))
    flowchart LR
    x["x<br/>data: 5<br/>grad: 0"] --> plus(("+"))
    two["2<br/>(const)"] --> plus
    plus --> y["y<br/>data: 7<br/>grad: 0"]
    """
    return mermaid_of(read(root))


def mermaid_of(graph: Graph) -> str:
    nodes = graph.nodes
    lines = ["flowchart LR"]
    drawn: set[str] = set()

    def ref(ident: str, shape: str) -> str:
        if ident in drawn:
            return ident
        drawn.add(ident)
        return ident + shape

    def box(node: Node) -> str:
        return ref(node.ident, '["' + "<br/>".join(map(_mermaid_text, box_lines(node))) + '"]')

    def circle(node: Node) -> str:
        return ref(node.op_ident, '(("' + _mermaid_text(node.op) + '"))')

    placed: set[int] = set()
    for call in graph.layers.calls:  # each layer's parameters, ops and output, boxed
        lines.append(f'subgraph {call.ident} ["{_mermaid_text(call.title)}"]')
        for i in [*call.params, *call.members]:
            if i in placed:
                continue
            placed.add(i)
            if nodes[i].kind == "result":
                lines.append(circle(nodes[i]))
            lines.append(box(nodes[i]))
        lines.append("end")
    for node in nodes:
        if node.kind == "result":
            for i in node.inputs:
                lines.append(f"{box(nodes[i])} --> {circle(node)}")
            lines.append(f"{circle(node)} --> {box(node)}")
    if len(nodes) == 1:
        lines.append(box(nodes[0]))
    return "\n".join(lines)
