"""The exceptions chainrule raises. Each message names the operation, the
shapes or values involved and, where there is one, the fix."""

from __future__ import annotations


class ChainruleError(Exception):
    """Base class of every error chainrule raises on purpose."""


class ShapeError(ChainruleError, ValueError):
    """Operands whose shapes do not fit the operation."""


class GraphError(ChainruleError, RuntimeError):
    """A graph used in a way it cannot be: freed buffers, a non-scalar root, ..."""


class AnomalyError(ChainruleError, FloatingPointError):
    """Under ``cr.detect_anomaly()``: the first NaN or infinity an op made, forward or backward."""


class DeviceError(ChainruleError, RuntimeError):
    """A device that cannot be used here, or arrays on two devices in one op."""


class GradcheckError(ChainruleError, AssertionError):
    """An analytic derivative that disagrees with the numerical one."""


class GraphvizNotFoundError(ChainruleError, RuntimeError):
    """``cr.viz.render`` was asked for a picture but Graphviz is not installed."""
