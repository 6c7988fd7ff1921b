"""``text(root)``: the graph drawn for a terminal, as an outline from the output back.

::

    L = y × z    data 105    grad 1
    ├── y = x + 2    data 7    grad 15
    │   ├── x    data 5    grad 36
    │   └── 2 (const)
    └── z = x × 3    data 15    grad 7
        ├── x    (drawn above)
        └── 3 (const)

Each node appears once with its numbers; a node used again is named and
pointed back to. The walk keeps its own stack, so a deep graph is fine.
"""

from __future__ import annotations

from typing import Any

from .numbers import PICTURE_LIMIT, array_text, format_number
from .trace import Node, expression, read

GAP = "    "


def _value(x: Any) -> str:
    return format_number(x) if isinstance(x, float) else array_text(x, PICTURE_LIMIT)


def _line(node: Node, nodes: list[Node]) -> str:
    if node.kind == "const":
        return f"{node.data} (const)"
    head = f"{node.name} = {expression(node, nodes)}" if node.kind == "result" else node.name
    line = f"{head}{GAP}data {_value(node.value)}"
    if node.gradient is not None:
        line += f"{GAP}grad {_value(node.gradient)}"
    return line


def text(root: Any, max_nodes: int = 500) -> str:
    """The graph behind ``root`` as an outline a terminal can show (no renderer needed);
    a graph of more than ``max_nodes`` nodes raises ``ValueError``."""
    graph = read(root, max_nodes)
    nodes = graph.nodes
    lines: list[str] = []
    drawn: set[int] = set()
    # (node, the prefix of its children's lines, its own branch mark)
    stack: list[tuple[int, str, str]] = [(len(nodes) - 1, "", "")]
    while stack:
        i, prefix, mark = stack.pop()
        node = nodes[i]
        if i in drawn and node.kind != "const":
            lines.append(f"{prefix}{mark}{node.name}{GAP}(drawn above)")
            continue
        drawn.add(i)
        lines.append(f"{prefix}{mark}{_line(node, nodes)}")
        below = prefix + ("" if not mark else "│   " if mark.startswith("├") else "    ")
        kids = list(node.inputs)
        for k in reversed(range(len(kids))):
            stack.append((kids[k], below, "└── " if k == len(kids) - 1 else "├── "))
    return "\n".join(lines) + "\n"
