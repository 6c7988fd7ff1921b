"""The scalar engine: ``Value``, one number that remembers how it was made.

Every operation is a *gate*. Its rule, in the table ``RULES`` below, computes
the output from the input numbers and, in the same breath, the gate's local
derivatives, one per input. The output node keeps them. ``backward()`` then
only has to walk the graph from the output back to the inputs and apply the
chain rule at every node::

    input.grad += local_derivative * node.grad

Nodes hold their inputs, never their consumers, and no node holds a closure,
so a graph is freed by reference counting alone as soon as it is dropped.

>>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
>>> L = (a * b + 5.0) * -2.0
>>> L.backward()
>>> a.grad, b.grad
(6.0, -4.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any, NamedTuple, Union

from .graph import toposort

__all__ = ["CONST", "RULES", "Rule", "Value", "constant", "jvp"]

Number = int | float
Operand = Union["Value", int, float]


class Rule(NamedTuple):
    """One gate: its forward function and its local derivatives in words.

    ``forward(x[, y])`` takes the input numbers (``x ** n`` also gets ``n``)
    and returns ``(out, ∂out/∂x[, ∂out/∂y])``. ``derivatives`` writes the same
    partial derivatives for people: ``{x}``, ``{y}`` and ``{out}`` stand for
    the inputs and the output, ``{n}`` and ``{n_1}`` for an exponent n and n - 1.
    """

    forward: Callable[..., tuple[float, ...]]
    derivatives: tuple[str, ...]


_exp, _log, _tanh, _sin, _cos, _sqrt = math.exp, math.log, math.tanh, math.sin, math.cos, math.sqrt


def _pow(x: float, n: float) -> tuple[float, float]:
    out = x**n
    if isinstance(out, complex):  # a negative base with a fractional exponent
        raise ValueError("math domain error")
    return out, n * x ** (n - 1) if n else 0.0


def _sigmoid(x: float) -> tuple[float, float]:
    # Two forms so that exp() never overflows: 1/(1+e^-x) = 1 - 1/(1+e^x).
    s = 1.0 / (1.0 + _exp(-x)) if x >= 0.0 else 1.0 - 1.0 / (1.0 + _exp(x))
    return s, s * (1.0 - s)


# The gates: one row per operation, forward and local derivatives side by side.
RULES: dict[str, Rule] = {
    # d(x + y) = dx + dy
    "+": Rule(lambda x, y: (x + y, 1.0, 1.0), ("1", "1")),
    # d(x - y) = dx - dy
    "-": Rule(lambda x, y: (x - y, 1.0, -1.0), ("1", "-1")),
    # d(x·y) = y·dx + x·dy
    "×": Rule(lambda x, y: (x * y, y, x), ("{y}", "{x}")),
    # d(x/y) = dx/y - x/y²·dy
    "/": Rule(lambda x, y: (x / y, 1.0 / y, -x / (y * y)), ("1/{y}", "-{x}/{y}²")),
    # d(-x) = -dx
    "neg": Rule(lambda x: (-x, -1.0), ("-1",)),
    # d(xⁿ) = n·xⁿ⁻¹·dx   (n is a number, not a node)
    "**": Rule(_pow, ("{n}·{x}^{n_1}",)),
    # d(eˣ) = eˣ·dx
    "exp": Rule(lambda x: ((e := _exp(x)), e), ("exp({x}) = {out}",)),
    # d(ln x) = dx/x
    "log": Rule(lambda x: (_log(x), 1.0 / x), ("1/{x}",)),
    # d(tanh x) = (1 - tanh²x)·dx
    "tanh": Rule(lambda x: ((t := _tanh(x)), 1.0 - t * t), ("1 - {out}²",)),
    # d(σ(x)) = σ(x)·(1 - σ(x))·dx
    "sigmoid": Rule(_sigmoid, ("{out}·(1 - {out})",)),
    # d(relu x) = [x > 0]·dx   (0 at x = 0, as in PyTorch)
    "relu": Rule(lambda x: (x, 1.0) if x > 0.0 else (0.0, 0.0), ("1 if {x} > 0 else 0",)),
    # d(sin x) = cos x·dx
    "sin": Rule(lambda x: (_sin(x), _cos(x)), ("cos({x})",)),
    # d(cos x) = -sin x·dx
    "cos": Rule(lambda x: (_cos(x), -_sin(x)), ("-sin({x})",)),
    # d(√x) = dx/(2√x)
    "sqrt": Rule(lambda x: ((r := _sqrt(x)), 0.5 / r), ("1/(2·{out})",)),
    # d|x| = sign(x)·dx   (0 at x = 0, as in PyTorch)
    "abs": Rule(lambda x: (x, 1.0) if x > 0.0 else (-x, -1.0 if x else 0.0), ("sign({x})",)),
}

# What a gate needs from its inputs, said when it does not get it.
_DOMAIN = {
    "/": "the divisor is 0; guard the division or add a small epsilon to the divisor",
    "log": "log(x) needs x > 0; keep the input positive, e.g. (x.abs() + 1e-12).log()",
    "sqrt": "sqrt(x) needs x > 0 (its derivative 1/(2·sqrt(x)) is infinite at 0); "
    "add a small epsilon, e.g. (x + 1e-12).sqrt()",
    "**": "x ** n needs x > 0 when n is fractional, and x != 0 when n < 1 "
    "(the derivative n·x^(n-1) is infinite there); shift the base away from 0",
}

CONST = "const"  # the op of a number that was mixed into an expression
_FORWARD = {op: rule.forward for op, rule in RULES.items()}
_new = object.__new__


def _binary(op: str, method: str) -> Callable[[Value, Operand], Value]:
    """The operator ``method`` (``"__mul__"``, ``"__rmul__"``, ...) of gate ``op``.

    A reflected method (``__rmul__``, what Python calls for ``2 * v``) puts the
    Value on the right. Operators are built once, at import; applying one
    costs a single call, to its rule.
    """
    forward, reflected = _FORWARD[op], method.startswith("__r")

    def gate(self: Value, other: Any) -> Value:
        if other.__class__ is not Value:
            other = _operand(other)
            if other is None:
                return NotImplemented
        x, y = (other, self) if reflected else (self, other)
        try:
            data, dx, dy = forward(x.data, y.data)
        except (ArithmeticError, ValueError) as exc:
            raise _domain_error(op, (x, y), exc) from None
        out = _new(type(self))
        out.data = data
        out.grad = 0.0
        out.label = ""
        out._op = op
        out._x = x
        out._y = y
        out._dx = dx
        out._dy = dy
        return out

    gate.__name__, gate.__qualname__ = method, f"Value.{method}"
    return gate


class Value:
    """A scalar node of a computation graph.

    ``data`` is the number, ``grad`` is ∂root/∂self after ``root.backward()``
    and ``label`` is an optional name that ``chainrule.viz`` shows.
    """

    # A gate has at most two inputs, so they live in slots (_x, _y) beside
    # their local derivatives (_dx, _dy) rather than in tuples: one object
    # per node keeps both memory and the cycle collector's work low.
    __slots__ = ("data", "grad", "label", "_op", "_x", "_y", "_dx", "_dy", "__weakref__")
    __array_ufunc__ = None  # NumPy numbers defer to Value's reflected operators

    data: float
    grad: float
    label: str
    _op: str
    _x: Value | None
    _y: Value | None
    _dx: float
    _dy: float

    def __init__(self, data: Number, label: str = "") -> None:
        if data.__class__ is not float:
            data = _as_float(data, "Value(data)", "Value(float(data))")
        self.data = data
        self.grad = 0.0
        self.label = label
        self._op = ""
        self._x = self._y = None
        self._dx = self._dy = 0.0

    # -- operators: each applies a gate from RULES ---------------------------
    __add__ = _binary("+", "__add__")
    __radd__ = _binary("+", "__radd__")
    __sub__ = _binary("-", "__sub__")
    __rsub__ = _binary("-", "__rsub__")
    __mul__ = _binary("×", "__mul__")
    __rmul__ = _binary("×", "__rmul__")
    __truediv__ = _binary("/", "__truediv__")
    __rtruediv__ = _binary("/", "__rtruediv__")

    def __neg__(self) -> Value:
        return _unary(self, "neg")

    def __pow__(self, n: Number) -> Value:
        if n.__class__ is not int and n.__class__ is not float:
            if isinstance(n, Value):
                raise TypeError(
                    f"Value ** Value is not supported: the exponent must be a number, "
                    f"got {n!r}. For a Value exponent b write (b * a.log()).exp() for a ** b."
                )
            if not isinstance(n, Real):
                return NotImplemented
        return _unary(self, "**", float(n))

    def __rpow__(self, base: Number) -> Value:
        raise TypeError(
            f"{base!r} ** Value is not supported: the exponent must be a number. "
            f"Write (x * math.log({base!r})).exp() for {base!r} ** x."
        )

    def exp(self) -> Value:
        """e ** self."""
        return _unary(self, "exp")

    def log(self) -> Value:
        """Natural logarithm; needs data > 0."""
        return _unary(self, "log")

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _unary(self, "tanh")

    def sigmoid(self) -> Value:
        """1 / (1 + e ** -self)."""
        return _unary(self, "sigmoid")

    def relu(self) -> Value:
        """max(0, self), with derivative 0 at 0."""
        return _unary(self, "relu")

    def sin(self) -> Value:
        """Sine (radians)."""
        return _unary(self, "sin")

    def cos(self) -> Value:
        """Cosine (radians)."""
        return _unary(self, "cos")

    def sqrt(self) -> Value:
        """Square root; needs data > 0."""
        return _unary(self, "sqrt")

    def abs(self) -> Value:
        """|self|, with derivative 0 at 0."""
        return _unary(self, "abs")

    # -- reverse mode --------------------------------------------------------
    def backward(self) -> None:
        """Fill ``.grad`` of every node this one depends on with ∂self/∂node.

        Inputs (leaves) accumulate: calling ``backward()`` twice adds the
        gradient twice, as in PyTorch. Intermediate nodes are reset first, so
        they always show this pass's gradient.
        """
        order = toposort(self, _inputs_resetting_grad)
        self.grad = 1.0
        for node in reversed(order):
            x = node._x
            if x is not None:
                g = node.grad
                x.grad += node._dx * g
                y = node._y
                if y is not None:
                    y.grad += node._dy * g

    # -- inspection ----------------------------------------------------------
    @property
    def inputs(self) -> tuple[Value, ...]:
        """The nodes this one was computed from (empty for a leaf)."""
        x, y = self._x, self._y
        return () if x is None else (x,) if y is None else (x, y)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """∂self/∂input for each of ``inputs``, cached when the gate ran."""
        return (self._dx, self._dy)[: len(self.inputs)]

    @property
    def op(self) -> str:
        """The gate that made this node: "" for an input, "const" for a constant."""
        return self._op

    @property
    def is_leaf(self) -> bool:
        """True for inputs and constants: nodes that no gate produced."""
        return self._x is None

    @property
    def is_const(self) -> bool:
        """True for a number mixed into an expression, like the 2 in ``x + 2``."""
        return self._op == CONST

    @property
    def tangent(self) -> float:
        """The forward-mode tangent: 0 outside ``jvp``, where a Value is a constant."""
        return 0.0

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"

    def _repr_markdown_(self) -> str | None:
        from .viz import jupyter_markdown  # viz is only needed in a notebook

        return jupyter_markdown(self)


def _inputs_resetting_grad(node: Value) -> tuple[Value, ...]:
    # toposort asks every node for its inputs before the sweep begins: the
    # moment to clear a stale gradient left on an intermediate node by an
    # earlier pass (doing it twice does no harm).
    x = node._x
    if x is None:
        return ()
    node.grad = 0.0
    y = node._y
    return (x,) if y is None else (x, y)


def _unary(x: Value, op: str, *params: float) -> Value:
    """Apply the one-input gate ``op`` to ``x`` (``params``: the exponent of ``**``)."""
    try:
        data, dx = _FORWARD[op](x.data, *params)
    except (ArithmeticError, ValueError) as exc:
        raise _domain_error(op, (x,), exc, *params) from None
    out = _new(type(x))
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._op = f"**{params[0]:g}" if params else op
    out._x = x
    out._y = None
    out._dx = dx
    out._dy = 0.0
    return out


def constant(x: Number) -> Value:
    """A constant node, like the one ``x + 2`` makes of the 2 (shown as ``(const)``)."""
    const = Value(x)
    const._op = CONST
    return const


def _operand(x: object) -> Value | None:
    """A Value as it is, a real number as a constant node, anything else None."""
    if isinstance(x, Value):
        return x
    if isinstance(x, Real):
        return constant(float(x))
    return None


def _as_float(data: object, what: str, fix: str) -> float:
    if isinstance(data, Value):
        raise TypeError(f"{what} must be a number, got {data!r}; pass its .data instead")
    if isinstance(data, Real):
        return float(data)
    raise TypeError(
        f"{what} must be a real number (int or float), got {type(data).__name__} {data!r}; "
        f"convert it first, e.g. {fix}"
    )


def _domain_error(op: str, inputs: Sequence[Value], exc: Exception, *params: float) -> Exception:
    args = ", ".join(f"{v.data!r}" for v in inputs)
    call = f"{args} ** {params[0]:g}" if params else f"{op}({args})"
    if isinstance(exc, OverflowError):
        return OverflowError(f"Value {call}: the result is too large for a float; scale it down")
    # a ValueError, but dividing by zero stays the ZeroDivisionError Python users expect
    kind = ZeroDivisionError if op == "/" else ValueError
    return kind(f"Value {call}: {_DOMAIN.get(op, exc)}")


# -- forward mode ------------------------------------------------------------
class _Dual(Value):
    """A Value that also carries a tangent, computed as each gate runs."""

    __slots__ = ("tangent",)
    tangent: float  # type: ignore[assignment]


def _carrying_tangent(method: Callable[..., Value]) -> Callable[..., Value]:
    def with_tangent(self: Value, *args: object) -> Value:
        out = method(self, *args)
        if out is not NotImplemented:
            # The chain rule forwards, from the local derivatives the gate
            # cached for backward(): out' = ∂out/∂x · x' + ∂out/∂y · y'
            x, y = out._x, out._y
            t = out._dx * x.tangent  # type: ignore[union-attr]
            out.tangent = t if y is None else t + out._dy * y.tangent  # type: ignore[misc]
        return out

    with_tangent.__name__, with_tangent.__doc__ = method.__name__, method.__doc__
    return with_tangent


for _method in (
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __neg__ "
    "__pow__ exp log tanh sigmoid relu sin cos sqrt abs"
).split():
    setattr(_Dual, _method, _carrying_tangent(getattr(Value, _method)))


def jvp(
    f: Callable[..., Value | float],
    primals: Sequence[Number | Value],
    tangents: Sequence[Number],
) -> tuple[float, float]:
    """Forward mode: ``f(*primals)`` and its derivative in the direction ``tangents``.

    One forward sweep and no backward pass: as each gate runs it also computes
    ``out.tangent = Σ ∂out/∂input · input.tangent`` from the local derivatives
    it caches anyway. ``f`` takes and returns Values.

    >>> jvp(lambda x, y: x * y + x.sin(), (2.0, 3.0), (1.0, 0.0))  # ∂/∂x = y + cos x
    (6.909297426825682, 2.5838531634528574)
    """
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp() got {len(primals)} primals but {len(tangents)} tangents; "
            "pass one tangent per primal"
        )
    duals = []
    for p, t in zip(primals, tangents, strict=True):
        d = _new(_Dual)
        if isinstance(p, Value):
            Value.__init__(d, p.data, p.label)
        else:
            Value.__init__(d, _as_float(p, "a jvp() primal", "float(p)"), "")
        d.tangent = _as_float(t, "a jvp() tangent", "float(t)")
        duals.append(d)
    out = f(*duals)
    if isinstance(out, Value):
        return out.data, out.tangent
    return _as_float(out, "the result of jvp()'s f", "return a Value"), 0.0
