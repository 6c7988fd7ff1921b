"""Graphviz: ``dot(root)`` (DOT text, nothing installed), ``render(root, path)``
(the ``dot`` program draws it) and ``draw_dot(root)`` (a ``graphviz.Digraph``, as
in micrograd's lecture)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from ..errors import GraphvizNotFoundError
from .flowchart import box_lines
from .trace import read


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def dot(root: Any) -> str:
    """The graph behind ``root`` as Graphviz DOT source (no Graphviz needed)."""
    graph = read(root)
    nodes = graph.nodes
    lines = ["digraph chainrule {", "  rankdir=LR;", '  node [fontname="Helvetica"];']

    def declare(i: int, indent: str) -> None:
        node = nodes[i]
        label = "\\n".join(_dot_text(line) for line in box_lines(node))
        style = ", style=dashed" if node.kind == "const" else ""
        lines.append(f'{indent}"{node.ident}" [shape=box{style}, label="{label}"];')
        if node.kind == "result":
            lines.append(f'{indent}"{node.op_ident}" [shape=circle, label="{_dot_text(node.op)}"];')

    placed: set[int] = set()
    for call in graph.layers.calls:
        lines.append(f'  subgraph "cluster_{call.ident}" {{')
        lines.append(f'    label="{_dot_text(call.title)}"; style=rounded; color=gray50;')
        for i in [*call.params, *call.members]:
            if i not in placed:
                placed.add(i)
                declare(i, "    ")
        lines.append("  }")
    for node in nodes:
        if node.index not in placed:
            declare(node.index, "  ")
    for node in nodes:
        if node.kind == "result":
            for i in node.inputs:
                lines.append(f'  "{nodes[i].ident}" -> "{node.op_ident}";')
            lines.append(f'  "{node.op_ident}" -> "{node.ident}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(root: Any, path: str | Path, format: str | None = None) -> Path:
    """Draw the graph behind ``root`` into ``path`` (SVG, PNG or PDF) with Graphviz.

    The format comes from the file's suffix unless ``format`` is given. Needs
    the Graphviz ``dot`` program; without it, raises ``GraphvizNotFoundError``
    (``mermaid()``, ``dot()`` and ``html()`` need nothing installed).
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
            "graphviz), or use mermaid(root) / dot(root) / html(root), which need nothing "
            "installed."
        ) from None


def _record(text: str) -> str:
    """Text safe inside a Graphviz record label."""
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


def draw_dot(root: Any, format: str = "svg", rankdir: str = "LR") -> Any:
    """The graph behind ``root`` as a ``graphviz.Digraph``, as micrograd's lecture draws it:
    one record per node (``label | data | grad``) and one small node per operation.

    In a notebook the Digraph shows itself (that needs Graphviz's ``dot``
    program); ``.source`` is its DOT text and ``.render()`` writes a file.
    Needs the ``graphviz`` Python package: ``pip install 'chainrule[viz]'``.
    """
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "draw_dot() needs the graphviz Python package: pip install 'chainrule[viz]' "
            "(or pip install graphviz), and Graphviz's dot program to draw it; "
            "cr.viz.mermaid(root), dot(root) and html(root) need nothing installed"
        ) from None
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"draw_dot: rankdir must be 'LR' or 'TB', got {rankdir!r}")
    nodes = read(root).nodes
    g = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir})
    for node in nodes:
        fields = [_record(line) for line in box_lines(node)]
        style = {"style": "dashed"} if node.kind == "const" else {}
        g.node(node.ident, label="{ " + " | ".join(fields) + " }", shape="record", **style)
        if node.kind == "result":
            g.node(node.op_ident, label=node.op)
            g.edge(node.op_ident, node.ident)
            for i in node.inputs:
                g.edge(nodes[i].ident, node.op_ident)
    return g
