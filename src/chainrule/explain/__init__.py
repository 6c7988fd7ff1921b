"""``explain(root)``: the backward pass told step by step, in Markdown.

It walks the graph from the root back to the inputs, as the seed notes do by
hand. For each node it gives the local derivative of every operation the node
feeds, the upstream gradient arriving there, their product, and, when the
node feeds several operations, the sum over those paths::

    ### x = 5 (input)
    x is used 2 times, so its gradient adds up the paths:
    - path through y = x + 2: local ∂y/∂x = 1, upstream ∂L/∂y = 15 → 1 × 15 = 15
    - path through z = x × 3: local ∂z/∂x = 3, upstream ∂L/∂z = 7 → 3 × 7 = 21

    ∂L/∂x = 15 + 21 = **36**

For a tensor graph each step is the op's rule in its vector or matrix form
(∂L/∂W = (∂L/∂Y)ᵀ · X, σ' ⊙ upstream, a bias gradient summed over the batch)
with the numbers plugged in; a graph built by ``nn`` modules can be walked
layer by layer instead (``by="layer"``), as the notes' six steps do. It
computes every number from the graph itself and never changes a ``.grad``.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ..viz.walk import walk
from .layered import explain_layers
from .scalar import explain_scalar
from .tensor import explain_tensor

__all__ = ["explain"]


def explain(root: Any, by: str = "auto") -> str:
    """Markdown that walks the backward pass from ``root`` node by node.

    ``by="node"`` walks node by node; ``by="layer"`` walks a graph built by
    ``nn`` modules layer by layer (the loss gradient, back through the
    activation, the weight and bias gradients, passing the gradient on);
    ``"auto"`` (the default) walks by layer when the graph has layers.

    >>> from chainrule import Value
    >>> x = Value(5.0, label="x"); y = x * 3; y.label = "y"
    >>> print(explain(y).splitlines()[-1])
    ∂y/∂x = **3**
    """
    if by not in ("auto", "node", "layer"):
        raise ValueError(f"explain: by must be 'auto', 'node' or 'layer', got {by!r}")
    w = walk(root)
    if w.graph.scalar:
        return explain_scalar(w)
    if by == "layer" or by == "auto" and w.graph.layers.calls:
        return explain_layers(w)
    return explain_tensor(w)


class _CallableModule(types.ModuleType):
    """``chainrule.explain`` names both this package and the function ``cr.explain``.
    Importing the package makes ``chainrule.explain`` the package (Python sets a
    submodule on its parent), so the package answers a call as the function does."""

    def __call__(self, root: Any, by: str = "auto") -> str:
        return explain(root, by)


sys.modules[__name__].__class__ = _CallableModule
