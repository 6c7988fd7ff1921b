"""Seeing the graph: pictures of a ``Value`` or ``Tensor`` graph, and a page that steps
through its backward pass.

- ``mermaid(root)``: Mermaid text in the style of hand-made notes (one box per
  node with its label, data and grad, one circle per operation);
- ``dot(root)``, ``render(root, "g.svg")``, ``draw_dot(root)``: Graphviz;
- ``html(root)``, ``save_html(root, path)``: one self-contained page that
  steps through the backward pass, forward values in green and gradients in red;
- ``text(root)``: the graph as an outline for a terminal.

Every picture shows intermediate gradients, also after a plain ``backward()``,
and the parameter names of the model that built the graph (``fc1.weight``).
"""

from __future__ import annotations

from ..errors import GraphvizNotFoundError
from .dotsource import dot, draw_dot, render
from .flowchart import mermaid
from .notebook import notebook_html
from .numbers import format_number
from .outline import text
from .stepper import html, save_html
from .trace import Node, trace

__all__ = [
    "GraphvizNotFoundError", "Node", "dot", "draw_dot", "format_number", "html", "mermaid",
    "notebook_html", "render", "save_html", "text", "trace",
]
