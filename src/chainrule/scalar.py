"""The scalar engine: ``Value``, one number that remembers how it was made.

Every operation is a *gate*. Its rule, in the table ``RULES`` below, gives the
output and the gate's local derivatives (one per input) as formulas in the
input numbers. A gate computes both at once and the output node keeps the
local derivatives. ``backward()`` then only has to walk the graph from the
output back to the inputs and apply the chain rule at every node::

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

import linecache
import math
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any, NamedTuple

from .graph import toposort

__all__ = ["CONST", "RULES", "Rule", "Value", "constant", "jvp"]

Number = int | float


class Rule(NamedTuple):
    """One gate, as formulas: its output and its local derivatives.

    Both are Python expressions in the input numbers ``x`` and ``y`` (or ``x``
    and the exponent ``n`` for ``**``); a derivative may also use ``out``, the
    output. ``derivatives[i]`` is ∂out/∂(input i).
    """

    out: str
    derivatives: tuple[str, ...]


# The gates. One row per operation: the output and the local derivatives side
# by side, then the same in mathematical notation.
# fmt: off
RULES: dict[str, Rule] = {
    "+":       Rule("x + y",       ("1.0", "1.0")),                    # d(x + y) = dx + dy
    "-":       Rule("x - y",       ("1.0", "-1.0")),                   # d(x - y) = dx - dy
    "×":       Rule("x * y",       ("y", "x")),                        # d(x·y) = y·dx + x·dy
    "/":       Rule("x / y",       ("1.0 / y", "-x / (y * y)")),       # d(x/y) = dx/y - x/y²·dy
    "neg":     Rule("-x",          ("-1.0",)),                         # d(-x) = -dx
    "**":      Rule("power(x, n)", ("n * x ** (n - 1) if n else 0.0",)),  # d(xⁿ) = n·xⁿ⁻¹·dx
    "exp":     Rule("exp(x)",      ("out",)),                          # d(eˣ) = eˣ·dx
    "log":     Rule("log(x)",      ("1.0 / x",)),                      # d(ln x) = dx/x
    "tanh":    Rule("tanh(x)",     ("1.0 - out * out",)),              # d(tanh x) = (1 - tanh²x)·dx
    "sigmoid": Rule("sigmoid(x)",  ("out * (1.0 - out)",)),            # dσ(x) = σ(x)·(1 - σ(x))·dx
    "relu":    Rule("x if x > 0.0 else 0.0", ("1.0 if x > 0.0 else 0.0",)),  # 0 at 0, as PyTorch
    "sin":     Rule("sin(x)",      ("cos(x)",)),                       # d(sin x) = cos x·dx
    "cos":     Rule("cos(x)",      ("-sin(x)",)),                      # d(cos x) = -sin x·dx
    "sqrt":    Rule("sqrt(x)",     ("0.5 / out",)),                    # d(√x) = dx/(2√x)
    "abs":     Rule("abs(x)",      ("sign(x)",)),                      # d|x| = sign(x)·dx, 0 at 0
}
# fmt: on


def _power(x: float, n: float) -> float:
    out = x**n
    if isinstance(out, complex):  # a negative base with a fractional exponent
        raise ValueError("math domain error")
    return out


def _sigmoid(x: float) -> float:
    # Two forms, so that exp() never overflows: 1/(1+e^-x) = 1 - 1/(1+e^x).
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0.0 else 1.0 - 1.0 / (1.0 + math.exp(x))


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


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

# -- gates, compiled from RULES ----------------------------------------------
# Each operator method is generated once, at import, from the template below
# with the rule's formulas written in. Applying a gate is then one plain
# function: no call to a rule function, no table lookup, nothing per node but
# the arithmetic and the node's fields. _Dual's methods (forward mode) come
# from the same template with one more line, the tangent.
_BINARY_GATE = """
def {method}(self, other):
    \"\"\"{doc}\"\"\"
    if type(other) is not Value:
        other = operand(other)
        if other is None:
            return NotImplemented
    a, b = {a}, {b}
    x, y = a.data, b.data
    try:
        out = {out}
        dx = {dx}
        dy = {dy}
    except (ArithmeticError, ValueError) as exc:
        raise domain_error({op!r}, (a, b), exc) from None
    node = new({cls})
    node.data = out
    node.grad = 0.0
    node._op = {op!r}
    node._x = a
    node._y = b
    node._dx = dx
    node._dy = dy{tangent}
    return node
"""
_UNARY_GATE = """
def {method}(self{n}):
    \"\"\"{doc}\"\"\"
    x = self.data
    try:
        out = {out}
        dx = {dx}
    except (ArithmeticError, ValueError) as exc:
        raise domain_error({op!r}, (self,), exc{n}) from None
    node = new({cls})
    node.data = out
    node.grad = 0.0
    node._op = {name}
    node._x = self
    node._y = None
    node._dx = dx{tangent}
    return node
"""
_TANGENT = {  # forward mode: out' = ∂out/∂x · x' (+ ∂out/∂y · y')
    _BINARY_GATE: "\n    node.tangent = dx * a.tangent + dy * b.tangent",
    _UNARY_GATE: "\n    node.tangent = dx * self.tangent",
}
_DOCS = {
    "+": "{a} + {b}",
    "-": "{a} - {b}",
    "×": "{a} * {b}",
    "/": "{a} / {b}",
    "neg": "-self",
    "**": "self ** n, n a number",
    "exp": "e ** self",
    "log": "The natural logarithm; needs data > 0",
    "tanh": "The hyperbolic tangent",
    "sigmoid": "1 / (1 + e ** -self)",
    "relu": "max(0, self), with derivative 0 at 0",
    "sin": "The sine (radians)",
    "cos": "The cosine (radians)",
    "sqrt": "The square root; needs data > 0",
    "abs": "|self|, with derivative 0 at 0",
}
# What the generated code sees: the functions the formulas use, and its helpers.
_GATE_GLOBALS: dict[str, Any] = {
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "sin": math.sin,
    "cos": math.cos,
    "sqrt": math.sqrt,
    "sigmoid": _sigmoid,
    "sign": _sign,
    "power": _power,
    "new": object.__new__,
}


def _gate(op: str, method: str, cls: str = "Value") -> Callable[..., Any]:
    """Compile the method ``method`` of class ``cls`` that applies gate ``op``."""
    rule = RULES[op]
    if len(rule.derivatives) == 2:
        template = _BINARY_GATE
        reflected = method.startswith("__r")  # 2 * v: Python calls v.__rmul__(2)
        a, b = ("other", "self") if reflected else ("self", "other")
        fields = dict(a=a, b=b, dx=rule.derivatives[0], dy=rule.derivatives[1])
        doc = _DOCS[op].format(a=a, b=b) + f". Gate {op!r}: out = {rule.out}; "
        doc += f"∂out/∂x = {fields['dx']}, ∂out/∂y = {fields['dy']} (x = {a}, y = {b})."
    else:
        template = _UNARY_GATE
        name = 'f"**{n:g}"' if op == "**" else repr(op)
        fields = dict(n=", n" if op == "**" else "", name=name, dx=rule.derivatives[0])
        doc = f"{_DOCS[op]}. Gate {op!r}: out = {rule.out}; ∂out/∂x = {fields['dx']} (x = self)."
    tangent = _TANGENT[template] if cls == "_Dual" else ""
    source = template.format(
        method=method, op=op, out=rule.out, cls=cls, tangent=tangent, doc=doc, **fields
    )
    # Registered with linecache, the generated code shows in tracebacks and
    # in inspect.getsource(Value.__mul__) like any other function.
    filename = f"<chainrule gate {cls}.{method}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), _GATE_GLOBALS, namespace)
    function: Callable[..., Any] = namespace[method]
    function.__qualname__ = f"{cls}.{method}"
    return function


class Value:
    """A scalar node of a computation graph.

    ``data`` is the number, ``grad`` is ∂root/∂self after ``root.backward()``
    and ``label`` is an optional name that ``chainrule.viz`` shows.
    """

    # A gate has at most two inputs, so they live in slots (_x, _y) beside
    # their local derivatives (_dx, _dy) rather than in tuples: one object
    # per node keeps both memory and the cycle collector's work low. Gates
    # leave _label (and _dy, with one input) unset: every store costs.
    __slots__ = ("data", "grad", "_label", "_op", "_x", "_y", "_dx", "_dy", "__weakref__")
    __array_ufunc__ = None  # NumPy numbers defer to Value's reflected operators

    data: float
    grad: float
    _label: str
    _op: str
    _x: Value | None
    _y: Value | None
    _dx: float
    _dy: float

    def __init__(self, data: Number, label: str = "") -> None:
        if type(data) is not float:
            data = _as_float(data, "Value(data)", "Value(float(data))")
        self.data = data
        self.grad = 0.0
        self._label = label
        self._op = ""
        self._x = self._y = None
        self._dx = self._dy = 0.0

    # -- the gates (see RULES) -----------------------------------------------
    __add__ = _gate("+", "__add__")
    __radd__ = _gate("+", "__radd__")
    __sub__ = _gate("-", "__sub__")
    __rsub__ = _gate("-", "__rsub__")
    __mul__ = _gate("×", "__mul__")
    __rmul__ = _gate("×", "__rmul__")
    __truediv__ = _gate("/", "__truediv__")
    __rtruediv__ = _gate("/", "__rtruediv__")
    __neg__ = _gate("neg", "__neg__")
    _power = _gate("**", "_power")
    exp = _gate("exp", "exp")
    log = _gate("log", "log")
    tanh = _gate("tanh", "tanh")
    sigmoid = _gate("sigmoid", "sigmoid")
    relu = _gate("relu", "relu")
    sin = _gate("sin", "sin")
    cos = _gate("cos", "cos")
    sqrt = _gate("sqrt", "sqrt")
    abs = _gate("abs", "abs")

    def __pow__(self, n: Number) -> Value:
        """self ** n for a number n (see the gate ``_power``)."""
        if type(n) is not int and type(n) is not float:
            if isinstance(n, Value):
                raise TypeError(
                    f"Value ** Value is not supported: the exponent must be a number, "
                    f"got {n!r}. For a Value exponent b write (b * a.log()).exp() for a ** b."
                )
            if not isinstance(n, Real):
                return NotImplemented
        result: Value = self._power(float(n))
        return result

    def __rpow__(self, base: Number) -> Value:
        raise TypeError(
            f"{base!r} ** Value is not supported: the exponent must be a number. "
            f"Write (x * math.log({base!r})).exp() for {base!r} ** x."
        )

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
    def label(self) -> str:
        """An optional name, shown by ``chainrule.viz`` and ``explain``."""
        try:
            return self._label
        except AttributeError:  # a node made by a gate and never named
            return ""

    @label.setter
    def label(self, value: str) -> None:
        self._label = value

    @property
    def inputs(self) -> tuple[Value, ...]:
        """The nodes this one was computed from (empty for a leaf)."""
        x, y = self._x, self._y
        return () if x is None else (x,) if y is None else (x, y)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """∂self/∂input for each of ``inputs``, cached when the gate ran."""
        x, y = self._x, self._y
        return () if x is None else (self._dx,) if y is None else (self._dx, self._dy)

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
    """A Value that also carries a tangent, computed by each gate as it runs."""

    __slots__ = ("tangent",)
    tangent: float  # type: ignore[assignment]


for _method, _op in [
    ("__add__", "+"),
    ("__radd__", "+"),
    ("__sub__", "-"),
    ("__rsub__", "-"),
    ("__mul__", "×"),
    ("__rmul__", "×"),
    ("__truediv__", "/"),
    ("__rtruediv__", "/"),
    ("__neg__", "neg"),
    ("_power", "**"),
    *[(_name, _name) for _name in RULES if _name.isalpha() and _name != "neg"],
]:
    setattr(_Dual, _method, _gate(_op, _method, cls="_Dual"))

_GATE_GLOBALS.update(Value=Value, _Dual=_Dual, operand=_operand, domain_error=_domain_error)


def jvp(
    f: Callable[..., Value | float],
    primals: Sequence[Number | Value],
    tangents: Sequence[Number],
) -> tuple[float, float]:
    """Forward mode: ``f(*primals)`` and its derivative in the direction ``tangents``.

    One forward sweep and no backward pass: as each gate runs it also computes
    ``out.tangent = Σ ∂out/∂input · input.tangent`` from the local derivatives
    it computes anyway. ``f`` takes and returns Values.

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
        d = object.__new__(_Dual)
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
