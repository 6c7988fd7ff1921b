"""The built-in ops on arrays, one module per family, and ``REGISTRY``, every op by name.

Each op is a forward and its derivative rules side by side (``Op``); each
family module registers its ops with their public names and formulas. This
package never imports ``Tensor``: the engine records these ops into graphs.
``chainrule ops`` prints the registry as a reference card.
"""

from . import conv, elementwise, linalg, reduce, shape
from .op import REGISTRY, Op, OpInfo, register

__all__ = ["REGISTRY", "Op", "OpInfo", "conv", "elementwise", "linalg", "reduce", "register",
           "shape"]
