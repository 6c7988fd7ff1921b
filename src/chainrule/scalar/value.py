"""``Value``: one number that remembers how it was made.

Every operation is a *gate*. A gate computes its output and, right beside it,
its local derivative ∂out/∂input for each input, and the new node keeps both.
``backward()`` then walks the graph from the output back to the inputs and
applies the chain rule at every node::

    input.grad += local_derivative * node.grad

A node holds its inputs, never its consumers, and no closure, so a graph is
freed by reference counting as soon as it is dropped.

>>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
>>> L = (a * b + 5.0) * -2.0
>>> L.backward()
>>> a.grad, b.grad
(6.0, -4.0)
"""

from __future__ import annotations

import math
from numbers import Real

from ..graph import toposort

Number = int | float
CONST = "const"  # the op of a number mixed into an expression, like the 2 in x + 2


class Value:
    """A scalar node of a computation graph.

    ``data`` is the number, ``grad`` is ∂root/∂self after ``root.backward()``
    and ``label`` is an optional name that pictures and explanations show.
    """

    # A gate has at most two inputs, so they live in slots (_x, _y) beside
    # their local derivatives (_dx, _dy): one small object per node, nothing
    # for the cycle collector to chase. _users counts, during backward(), the
    # nodes that use this one and have not passed their gradient back yet (0
    # otherwise). A gate leaves _label unset (and _y, _dy for one input):
    # every store costs.
    __slots__ = (
        "data", "grad", "_label", "_op", "_x", "_y", "_dx", "_dy", "_users", "__weakref__"
    )
    __array_ufunc__ = None  # NumPy numbers defer to Value's reflected operators

    data: float
    grad: float
    _label: str
    _op: str
    _x: Value | None
    _y: Value | None
    _dx: float
    _dy: float
    _users: int

    def __init__(self, data: Number, label: str = "") -> None:
        if type(data) is not float:
            data = _as_float(data, "Value(data)", "Value(float(data))")
        self.data = data
        self.grad = 0.0
        self._label = label
        self._op = ""
        self._x = self._y = None
        self._dx = self._dy = 0.0
        self._users = 0

    # -- the gates: out, then ∂out/∂x (and ∂out/∂y) ---------------------------
    # A number beside a Value becomes a constant node (shown as "(const)");
    # anything else gives NotImplemented, so Python can try the other operand.
    def __add__(self, other: Value | Number) -> Value:
        o = other if type(other) is Value else _operand(other)
        if o is None:
            return NotImplemented
        # out = x + y;  ∂out/∂x = 1, ∂out/∂y = 1: addition hands the gradient on
        return _binary(self.data + o.data, "+", self, o, 1.0, 1.0)

    def __radd__(self, other: Number) -> Value:  # other + self
        o = _operand(other)
        if o is None:
            return NotImplemented
        return _binary(o.data + self.data, "+", o, self, 1.0, 1.0)

    def __sub__(self, other: Value | Number) -> Value:
        o = other if type(other) is Value else _operand(other)
        if o is None:
            return NotImplemented
        # out = x - y;  ∂out/∂x = 1, ∂out/∂y = -1
        return _binary(self.data - o.data, "-", self, o, 1.0, -1.0)

    def __rsub__(self, other: Number) -> Value:  # other - self
        o = _operand(other)
        if o is None:
            return NotImplemented
        return _binary(o.data - self.data, "-", o, self, 1.0, -1.0)

    def __mul__(self, other: Value | Number) -> Value:
        o = other if type(other) is Value else _operand(other)
        if o is None:
            return NotImplemented
        x, y = self.data, o.data
        # out = x·y;  ∂out/∂x = y, ∂out/∂y = x
        return _binary(x * y, "×", self, o, y, x)

    def __rmul__(self, other: Number) -> Value:  # other * self
        o = _operand(other)
        if o is None:
            return NotImplemented
        x, y = o.data, self.data
        return _binary(x * y, "×", o, self, y, x)

    def __truediv__(self, other: Value | Number) -> Value:
        o = other if type(other) is Value else _operand(other)
        if o is None:
            return NotImplemented
        return _divide(self, o)

    def __rtruediv__(self, other: Number) -> Value:  # other / self
        o = _operand(other)
        if o is None:
            return NotImplemented
        return _divide(o, self)

    def __neg__(self) -> Value:
        # out = -x;  ∂out/∂x = -1
        return _unary(-self.data, "neg", self, -1.0)

    def __pow__(self, n: Number) -> Value:
        """self ** n for a number n."""
        if type(n) is not int and type(n) is not float:
            if isinstance(n, Value):
                raise TypeError(
                    f"Value ** Value is not supported: the exponent must be a number, "
                    f"got {n!r}. For a Value exponent b write (b * a.log()).exp() for a ** b."
                )
            if not isinstance(n, Real):
                return NotImplemented
        n = float(n)
        x = self.data
        if x == 0.0 and n < 1.0 and n != 0.0 or x < 0.0 and n != int(n):
            raise _domain_error(f"{x!r} ** {n:g}", "x ** n needs x > 0 when n is fractional, "
                                "and x != 0 when n < 1 (the derivative n·x^(n-1) is infinite "
                                "there); shift the base away from 0")
        try:
            # out = xⁿ;  ∂out/∂x = n·xⁿ⁻¹
            out, dx = x**n, n * x ** (n - 1.0) if n else 0.0
        except OverflowError:
            raise _too_large(f"{x!r} ** {n:g}") from None
        return _unary(out, f"**{n:g}", self, dx)

    def __rpow__(self, base: Number) -> Value:
        raise TypeError(
            f"{base!r} ** Value is not supported: the exponent must be a number. "
            f"Write (x * math.log({base!r})).exp() for {base!r} ** x."
        )

    def exp(self) -> Value:
        x = self.data
        try:
            out = math.exp(x)
        except OverflowError:
            raise _too_large(f"exp({x!r})") from None
        # out = eˣ;  ∂out/∂x = eˣ, the output itself
        return _unary(out, "exp", self, out)

    def log(self) -> Value:
        x = self.data
        if x <= 0.0:
            raise _domain_error(f"log({x!r})", "log(x) needs x > 0; keep the input positive, "
                                "e.g. (x.abs() + 1e-12).log()")
        # out = ln x;  ∂out/∂x = 1/x
        return _unary(math.log(x), "log", self, 1.0 / x)

    def tanh(self) -> Value:
        out = math.tanh(self.data)
        # out = tanh x;  ∂out/∂x = 1 - tanh²x
        return _unary(out, "tanh", self, 1.0 - out * out)

    def sigmoid(self) -> Value:
        x = self.data
        # σ(x) = 1/(1 + e⁻ˣ), written so that exp never overflows
        out = 1.0 / (1.0 + math.exp(-x)) if x >= 0.0 else 1.0 - 1.0 / (1.0 + math.exp(x))
        # ∂σ/∂x = σ(1 - σ)
        return _unary(out, "sigmoid", self, out * (1.0 - out))

    def relu(self) -> Value:
        x = self.data
        # out = max(x, 0);  ∂out/∂x = 1 where x > 0, else 0 (0 at 0, as in PyTorch)
        return _unary(x, "relu", self, 1.0) if x > 0.0 else _unary(0.0, "relu", self, 0.0)

    def sin(self) -> Value:
        x = self.data
        # out = sin x;  ∂out/∂x = cos x
        return _unary(math.sin(x), "sin", self, math.cos(x))

    def cos(self) -> Value:
        x = self.data
        # out = cos x;  ∂out/∂x = -sin x
        return _unary(math.cos(x), "cos", self, -math.sin(x))

    def sqrt(self) -> Value:
        x = self.data
        if x <= 0.0:
            raise _domain_error(f"sqrt({x!r})", "sqrt(x) needs x > 0 (its derivative "
                                "1/(2·sqrt(x)) is infinite at 0); add a small epsilon, "
                                "e.g. (x + 1e-12).sqrt()")
        out = math.sqrt(x)
        # out = √x;  ∂out/∂x = 1/(2√x)
        return _unary(out, "sqrt", self, 0.5 / out)

    def abs(self) -> Value:
        x = self.data
        # out = |x|;  ∂out/∂x = sign x (0 at 0)
        return _unary(abs(x), "abs", self, 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0)

    # -- reverse mode --------------------------------------------------------
    def backward(self) -> None:
        """Fill ``.grad`` of every node this one depends on with ∂self/∂node.

        Inputs (leaves) accumulate: calling ``backward()`` twice adds the
        gradient twice, as in PyTorch. Intermediate nodes are reset first, so
        they always show this pass's gradient.

        A node may pass its gradient back only once it is complete, that is,
        once every node that uses it has passed it theirs. So the pass first
        counts each node's users, then starts from ``self`` and lets a node
        go as soon as its count of waiting users drops to 0 (Kahn's
        algorithm: the order is found as the gradients flow, with no
        recursion, so a graph of any depth is fine).
        """
        try:
            self._count_users()
            self.grad = 1.0
            ready = [self] if self._x is not None else []
            for node in ready:  # the list grows as nodes become ready (users before inputs)
                g = node.grad
                x = node._x  # node._backward(), written out: this loop is the hot one
                x.grad += node._dx * g  # type: ignore[union-attr]
                x._users -= 1  # type: ignore[union-attr]
                if not x._users and x._x is not None:  # type: ignore[union-attr]
                    ready.append(x)  # type: ignore[arg-type]
                y = node._y
                if y is not None:
                    y.grad += node._dy * g
                    y._users -= 1
                    if not y._users and y._x is not None:
                        ready.append(y)
        except BaseException:  # interrupted: leave no count behind for the next pass
            for node in toposort(self, _inputs):
                node._users = 0
            raise

    def _count_users(self) -> None:
        """Count, for every node below ``self``, the nodes of this graph that use it,
        and reset the gradient of every intermediate node (inputs keep accumulating)."""
        todo = [self]
        for node in todo:  # the list grows as the walk finds nodes
            for x in (node._x, node._y):
                if x is None:
                    continue
                if not x._users:  # the first use found: walk below x too (once)
                    todo.append(x)
                    if x._x is not None:
                        x.grad = 0.0
                x._users += 1

    def _backward(self) -> None:
        """This node's own step of the chain rule: add local derivative × ``self.grad``
        into each input's ``.grad``. ``backward()`` runs it for every node, the
        output first; calling it by hand, node by node, is the same backward pass."""
        x = self._x
        if x is not None:
            x.grad += self._dx * self.grad
            y = self._y
            if y is not None:
                y.grad += self._dy * self.grad

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
    def _prev(self) -> set[Value]:
        """micrograd's name for the input nodes, as a set."""
        return set(self.inputs)

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

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"

    def _repr_html_(self) -> str | None:
        from ..viz import notebook_html  # viz is only needed in a notebook

        return notebook_html(self)


# -- making nodes --------------------------------------------------------------
_new = object.__new__


def _unary(out: float, op: str, x: Value, dx: float) -> Value:
    """A new node ``out``, made by gate ``op`` from ``x``, with ∂out/∂x = ``dx``."""
    node: Value = _new(Value)
    node.data = out
    node.grad = 0.0
    node._op = op
    node._x = x
    node._y = None
    node._dx = dx
    node._users = 0
    return node


def _binary(out: float, op: str, x: Value, y: Value, dx: float, dy: float) -> Value:
    """A new node ``out``, made by gate ``op`` from ``x`` and ``y``, with its two
    local derivatives ∂out/∂x = ``dx`` and ∂out/∂y = ``dy``."""
    node: Value = _new(Value)
    node.data = out
    node.grad = 0.0
    node._op = op
    node._x = x
    node._y = y
    node._dx = dx
    node._dy = dy
    node._users = 0
    return node


def _divide(a: Value, b: Value) -> Value:
    x, y = a.data, b.data
    if y == 0.0:
        raise ZeroDivisionError(
            f"Value /({x!r}, {y!r}): the divisor is 0; guard the division or add a small "
            "epsilon to the divisor"
        )
    out = x / y
    # out = x/y;  ∂out/∂x = 1/y, ∂out/∂y = -x/y² = -out/y
    return _binary(out, "/", a, b, 1.0 / y, -out / y)


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
        return constant(float(x))  # type: ignore[arg-type]
    return None


def _inputs(node: Value) -> tuple[Value, ...]:
    return node.inputs


def _as_float(data: object, what: str, fix: str) -> float:
    if isinstance(data, Value):
        raise TypeError(f"{what} must be a number, got {data!r}; pass its .data instead")
    if isinstance(data, Real):
        return float(data)  # type: ignore[arg-type]
    raise TypeError(
        f"{what} must be a real number (int or float), got {type(data).__name__} {data!r}; "
        f"convert it first, e.g. {fix}"
    )


def _domain_error(call: str, why: str) -> ValueError:
    return ValueError(f"Value {call}: {why}")


def _too_large(call: str) -> OverflowError:
    return OverflowError(f"Value {call}: the result is too large for a float; scale it down")
