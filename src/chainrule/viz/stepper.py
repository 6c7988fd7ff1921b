"""``html(root)``: one self-contained page that steps through the backward pass.

The picture (``svg.py``) shows every forward value in green. Each press of
Next takes one path back: the current node and the edge its gradient comes
along are highlighted, the text says local derivative × upstream = product,
and, where a node feeds several operations, the running sum so far. The
gradients appear in red as they are found. Back, Next and the ←/→ keys step;
the step's text is in the ``role="status"`` element.

The page is built from ``stepper.html``, ``stepper.css`` and ``stepper.js``
(package data), with the steps as JSON: it loads nothing from a network.
"""

from __future__ import annotations

import json
import re
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from .numbers import array_text, format_number
from .svg import draw, value_lines
from .trace import Node, expression
from .walk import Use, Walk, walk

MAX_NODES = 400


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _short(x: Any) -> str:
    return format_number(x) if isinstance(x, float) else array_text(x)


def _scalar_text(use: Use, node: Node, w: Walk) -> str:
    c, L = use.consumer, w.root.name
    value = format_number(use.local)
    said = value if use.local_text == value else f"{use.local_text} = {value}"
    return (f"local ∂{c.name}/∂{node.name} = {said}, upstream ∂{L}/∂{c.name} = "
            f"{format_number(use.upstream)} → {format_number(use.local)} × "
            f"{format_number(use.upstream)} = {format_number(use.product)}")


def _tensor_text(use: Use) -> str:
    rule = use.rule
    assert rule is not None
    lines = [rule.rule]
    if rule.local:
        lines.append("local " + rule.local)
    lines.append("upstream: " + array_text(use.upstream))
    lines += rule.numbers
    return "\n".join(lines)


def steps(w: Walk) -> list[dict[str, Any]]:
    """The steps of the page: one for the root, one per path back, one at the end."""
    nodes, root = w.nodes, w.root
    L = root.name
    seed = w.grads[root.index]
    out: list[dict[str, Any]] = [{
        "node": root.index, "consumer": None, "edge": None, "label": "",
        "text": f"Start at {L} = {_short(root.value)}: the gradient of {L} with respect to "
                f"itself is ∂{L}/∂{L} = {_short(seed)}. Press Next to go back one path at a time.",
        "set": {str(root.index): value_lines(seed, "grad")},
    }]
    for node in w.order():
        if node is root:
            continue
        uses = w.uses[node.index]
        running: list[Any] = []
        for use in uses:
            c = use.consumer
            head = f"{node.name} ← {c.name} = {expression(c, nodes)}"
            body = _scalar_text(use, node, w) if w.graph.scalar else _tensor_text(use)
            text = f"{head}:\n{body}"
            if use.product is not None:
                running.append(use.product)
            total = sum(running[1:], running[0]) if running else None
            if len(uses) > 1 and running:
                terms = " + ".join(_num(p) for p in running)
                sofar = terms if len(running) == 1 else f"{terms} = {_short(total)}"
                done = len(running) == len(uses)
                text += (f"\n{node.name} feeds {len(uses)} operations, so its gradient is a sum; "
                         f"{'all paths in' if done else 'running sum so far'}: "
                         f"∂{L}/∂{node.name} = {sofar}")
            elif total is not None:
                text += f"\nSo ∂{L}/∂{node.name} = {_short(total)}."
            label = format_number(use.product) if w.graph.scalar else ""
            out.append({
                "node": node.index, "consumer": c.index, "edge": f"e{c.index}_{use.position}",
                "label": label, "text": text,
                "set": {} if total is None else {str(node.index): value_lines(total, "grad")},
            })
    out.append({
        "node": None, "consumer": None, "edge": None, "label": "", "set": {},
        "text": f"Done: every node {L} depends on has its gradient ∂{L}/∂node, in red. "
                "Press Back to go over a step again.",
    })
    return out


def _num(x: Any) -> str:
    text = _short(x)
    return f"({text})" if text.startswith("-") else text


def html(root: Any, engine: str = "auto") -> str:
    """One self-contained HTML page that steps through the backward pass from ``root``.

    ``engine`` lays the picture out: "auto" (Graphviz's ``dot`` when it is
    installed, else a layout of chainrule's own), "graphviz" or "layered".
    """
    try:
        walked = walk(root, MAX_NODES)
    except ValueError:
        raise ValueError(
            f"html: the graph has more than {MAX_NODES} nodes, too many to step through; "
            "draw a smaller part of it (one example of a batch, one layer), or use "
            "cr.explain(root) for the words"
        ) from None
    return page(walked, engine)


def save_html(root: Any, path: str | Path, engine: str = "auto") -> Path:
    """Write ``html(root)`` to ``path`` (open it in any browser, offline)."""
    path = Path(path)
    path.write_text(html(root, engine), encoding="utf-8")
    return path


def page(w: Walk, engine: str = "auto") -> str:
    """The stepper page for a walked graph."""
    plan = steps(w)
    sets: dict[int, list[list[str]]] = {}
    for s in plan:
        for k, lines in s["set"].items():
            sets.setdefault(int(k), []).append(lines)
    picture = draw(w.graph, sets, engine)
    L = w.root.name
    banner = ""
    if not w.graph.ran:
        empty = "0" if w.graph.scalar else "None"
        banner = (f"backward() has not run from {L} yet, so every .grad is still {empty}. "
                  "The gradients this page shows are computed from the graph, as "
                  f"{L}.backward() will compute them.")
    data = {"steps": plan, "ran": w.graph.ran, "engine": picture.engine}
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    values = {
        "TITLE": escape(f"Backward pass from {L}"),
        "STYLE": _asset("stepper.css"),
        "BANNER": f'<p class="banner" id="banner">{escape(banner)}</p>' if banner else "",
        "SVG": picture.svg,
        "DATA": payload,
        "SCRIPT": _asset("stepper.js"),
    }
    # one pass over the template: nothing filled in is read for placeholders again
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: values[m.group(1)], _asset("stepper.html"))
