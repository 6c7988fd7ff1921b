"""What a ``Value`` or ``Tensor`` shows in Jupyter: the stepper, and a still picture
where the notebook runs no scripts.

A notebook displays the richest form an object offers, and HTML outranks
Markdown, so this replaces the Mermaid block ``Value`` used to show there:
the stepper is the better picture wherever scripts run, and where they do not
(an untrusted notebook, GitHub, nbviewer) the sanitiser drops the iframe and
its ``onload`` and keeps the still SVG, whose styles are all inline. A trusted
notebook hides the still picture once the stepper has loaded.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .stepper import page
from .svg import draw
from .walk import walk


def notebook_html(root: Any, max_nodes: int = 300) -> str | None:
    """HTML for Jupyter's ``_repr_html_``; None (the plain repr) for a lone leaf or a
    graph of more than ``max_nodes`` nodes."""
    try:
        w = walk(root, max_nodes)
    except ValueError:
        return None
    if len(w.nodes) == 1:
        return None
    still = draw(w.graph, None if w.graph.ran else {}, prefix="still")
    height = int(min(still.height * 1.4, 640) + 260)
    note = "" if w.graph.ran else (
        '<p style="color:#8d6e00">backward() has not run yet: no gradients to show.</p>')
    return (
        '<div class="chainrule-graph">'
        f"<code>{escape(repr(root))}</code>"
        f'<iframe srcdoc="{escape(page(w), quote=True)}" sandbox="allow-scripts" '
        f'title="the backward pass, step by step" style="width:100%;height:{height}px;border:0" '
        "onload=\"this.nextElementSibling.style.display='none'\"></iframe>"
        f'<div style="overflow:auto">{note}{still.svg}</div>'
        "</div>"
    )
