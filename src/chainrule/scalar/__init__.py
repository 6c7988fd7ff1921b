"""The scalar engine: ``Value`` (one number that remembers how it was made),
forward mode (``jvp``), and its gates' rules written as formulas (``RULES``)."""

from .forward import jvp
from .rules import RULES, Rule
from .value import CONST, Value, constant

__all__ = ["CONST", "RULES", "Rule", "Value", "constant", "jvp"]
