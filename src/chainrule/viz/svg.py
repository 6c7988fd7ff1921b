"""A graph as SVG: boxes for values (forward value in green, gradient in red, as
cs231n's circuit diagrams colour them), circles for operations, a frame per layer.

Every style is an inline attribute, so the picture keeps its looks where a
page's style sheets are stripped (an untrusted notebook). Ids name every
part, so the stepper's script can highlight and fill them in: ``n3`` is node
3's box, ``o3`` the circle of the op that made it, ``e3_1`` the edge from its
second input to that circle, ``r3`` the edge from the circle to its box, and
``n3g0``, ``n3g1``, ... its gradient's lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from .layout import Shape, layout
from .numbers import PICTURE_LIMIT, array_lines, format_number
from .trace import Graph, Node

CHAR_W = 7.3  # px per character of 12px monospace
LINE_H = 15.0
PAD = 8.0
GREEN = "#2e7d32"
RED = "#c62828"
FONT = "font-family:monospace;font-size:12px"


@dataclass
class Picture:
    svg: str
    width: float
    height: float
    engine: str  # the layout engine that placed it: "graphviz" or "layered"


def value_lines(x: Any, word: str) -> list[str]:
    """``data: 5``, or one line per row of a matrix, the first prefixed by the word."""
    if isinstance(x, float):
        return [f"{word}: {format_number(x)}"]
    rows = array_lines(x, PICTURE_LIMIT)
    pad = " " * (len(word) + 2)
    return [f"{word}: {rows[0]}"] + [pad + r for r in rows[1:]]


def _head_lines(node: Node) -> list[str]:
    if node.kind == "const":
        return [*array_lines(node.value, PICTURE_LIMIT), "(const)"]
    return [node.name, *value_lines(node.value, "data")]


def draw(graph: Graph, grads: dict[int, list[list[str]]] | None = None,
         engine: str = "auto", prefix: str = "cr") -> Picture:
    """The picture of ``graph``. ``grads`` gives, per node, every set of gradient lines
    the node may show (the box is sized for the largest; the last is drawn); by
    default each node shows the gradient the graph holds."""
    nodes = graph.nodes
    if grads is None:
        grads = {n.index: [value_lines(n.gradient, "grad")] for n in nodes
                 if n.gradient is not None and n.kind != "const"}
    shapes: list[Shape] = []
    heads = {n.index: _head_lines(n) for n in nodes}
    rows = {i: max((len(g) for g in grads.get(i, [])), default=0) for i in heads}
    for n in nodes:
        texts = heads[n.index] + [line for g in grads.get(n.index, []) for line in g]
        width = max(len(t) for t in texts) * CHAR_W + 2 * PAD
        height = (len(heads[n.index]) + rows[n.index]) * LINE_H + PAD
        if n.kind == "result":  # the op's circle comes before its output (inputs first)
            d = max(30.0, len(n.op) * CHAR_W + 14)
            shapes.append(Shape(f"o{n.index}", d, 30.0))
        shapes.append(Shape(f"n{n.index}", max(width, 40.0), height))
    edges: list[tuple[str, str]] = []
    edge_ids: list[str] = []
    for n in nodes:
        if n.kind == "result":
            for p, i in enumerate(n.inputs):
                edges.append((f"n{i}", f"o{n.index}"))
                edge_ids.append(f"e{n.index}_{p}")
            edges.append((f"o{n.index}", f"n{n.index}"))
            edge_ids.append(f"r{n.index}")
    clusters = []
    for call in graph.layers.calls:
        group = [f"n{i}" for i in call.params + call.members]
        group += [f"o{i}" for i in call.members if nodes[i].kind == "result"]
        clusters.append(list(dict.fromkeys(group)))
    placed = layout(shapes, edges, clusters, engine)
    size = {s.ident: s for s in shapes}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{placed.width:.0f}" '
        f'height="{placed.height:.0f}" viewBox="0 0 {placed.width:.0f} {placed.height:.0f}" '
        f'role="img" aria-label="the graph behind {escape(nodes[-1].name)}" style="{FONT}">',
        f'<defs><marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" style="fill:#666"/></marker></defs>',
    ]
    for call, (x0, y0, x1, y1) in zip(graph.layers.calls, placed.clusters, strict=False):
        out.append(
            f'<g id="{escape(call.ident)}"><rect x="{x0:.1f}" y="{y0:.1f}" '
            f'width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" rx="8" '
            'style="fill:#f4f6f8;stroke:#9aa5b1;stroke-dasharray:5 3"/>'
            f'<text x="{x0 + 8:.1f}" y="{y0 + 15:.1f}" style="fill:#52606d;font-style:italic">'
            f"{escape(call.title)}</text></g>"
        )
    for ident, path in zip(edge_ids, placed.edges, strict=True):
        route = f"M{path[0][0]:.1f},{path[0][1]:.1f}" + "".join(
            f" C{a[0]:.1f},{a[1]:.1f} {b[0]:.1f},{b[1]:.1f} {c[0]:.1f},{c[1]:.1f}"
            for a, b, c in zip(path[1::3], path[2::3], path[3::3], strict=False)
        )
        out.append(f'<path id="{ident}" d="{route}" style="fill:none;stroke:#888;stroke-width:1.4" '
                   f'marker-end="url(#{prefix}-arrow)"/>')
    for n in nodes:
        out += _box(n, heads[n.index], grads.get(n.index, []), rows[n.index],
                    placed.centres[f"n{n.index}"], size[f"n{n.index}"])
        if n.kind == "result":
            (cx, cy), s = placed.centres[f"o{n.index}"], size[f"o{n.index}"]
            out.append(
                f'<g id="o{n.index}"><ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{s.width / 2:.1f}" '
                f'ry="{s.height / 2:.1f}" style="fill:#fffbe6;stroke:#8d6e00;stroke-width:1.2"/>'
                f'<text x="{cx:.1f}" y="{cy + 4:.1f}" style="text-anchor:middle;fill:#5d4600">'
                f"{escape(n.op)}</text></g>"
            )
    out.append("</svg>")
    return Picture("\n".join(out), placed.width, placed.height, placed.engine)


def _box(n: Node, head: list[str], grads: Sequence[list[str]], rows: int,
         centre: tuple[float, float], s: Shape) -> list[str]:
    cx, cy = centre
    x, y = cx - s.width / 2, cy - s.height / 2
    dashed = ";stroke-dasharray:4 3" if n.kind == "const" else ""
    out = [
        f'<g id="n{n.index}"><rect x="{x:.1f}" y="{y:.1f}" width="{s.width:.1f}" '
        f'height="{s.height:.1f}" rx="4" style="fill:#ffffff;stroke:#37474f;stroke-width:1.2'
        f'{dashed}"/>'
    ]
    top = y + PAD / 2 + 11
    for k, line in enumerate(head):
        style = "font-weight:bold;fill:#1f2933" if k == 0 and n.kind != "const" else f"fill:{GREEN}"
        if n.kind == "const":
            style = "fill:#52606d"
        out.append(_text(x + PAD, top + k * LINE_H, line, style))
    shown = grads[-1] if grads else []
    for k in range(rows):
        line = shown[k] if k < len(shown) else ""
        out.append(_text(x + PAD, top + (len(head) + k) * LINE_H, line, f"fill:{RED}",
                         f"n{n.index}g{k}"))
    out.append("</g>")
    return out


def _text(x: float, y: float, text: str, style: str, ident: str = "") -> str:
    idattr = f' id="{ident}"' if ident else ""
    return (f'<text{idattr} x="{x:.1f}" y="{y:.1f}" xml:space="preserve" '
            f'style="white-space:pre;{style}">{escape(text)}</text>')
