"""Neurons, layers and multi-layer perceptrons over scalar ``Value``s, with the names
micrograd's lecture gives them, so its code runs with only its imports changed.

>>> import random
>>> random.seed(0)
>>> model = MLP(3, [4, 4, 1])
>>> out = model([2.0, 3.0, -1.0])
>>> len(model.parameters())
41
>>> model.zero_grad(); out.backward(); any(p.grad != 0 for p in model.parameters())
True

Everything is one number at a time: a neuron is ``act(w · x + b)`` written
out as Values, so ``cr.viz.html(loss)`` can step through every multiplication.
The weights start uniform in [-1, 1], drawn from Python's ``random``
(``random.seed`` makes them repeatable), as in the lecture.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from .scalar import Value

__all__ = ["MLP", "Layer", "Module", "Neuron"]

_ACTIVATIONS = ("tanh", "relu", "sigmoid")


class Module:
    """What every model here has: its parameters, and a way to reset their gradients."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 (gradients add up across ``backward()``)."""
        for p in self.parameters():
            p.grad = 0.0


def _inputs(x: Sequence[Value | float], n: int, who: str) -> list[Value | float]:
    if isinstance(x, (Value, int, float)):
        x = [x]
    values = list(x)
    if len(values) != n:
        raise ValueError(f"{who} takes {n} inputs, got {len(values)}; pass a list of {n} numbers "
                         "or Values")
    return values


class Neuron(Module):
    """``act(w · x + b)``: ``nin`` weights and a bias. ``nonlin=False`` leaves out the
    activation (a linear neuron); ``activation`` is "tanh" (the lecture's), "relu"
    (micrograd's library) or "sigmoid"."""

    def __init__(self, nin: int, nonlin: bool = True, activation: str = "tanh") -> None:
        if not isinstance(nin, int) or nin < 1:
            raise ValueError(f"Neuron(nin): nin must be a positive int, got {nin!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"Neuron: activation must be one of {', '.join(_ACTIVATIONS)}, "
                             f"got {activation!r}")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.nonlin = nonlin
        self.activation = activation

    def __call__(self, x: Sequence[Value | float]) -> Value:
        xs = _inputs(x, len(self.w), repr(self))
        act = self.b
        for wi, xi in zip(self.w, xs, strict=True):
            act = act + wi * xi
        if not self.nonlin:
            return act
        out: Value = getattr(act, self.activation)()
        return out

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        kind = self.activation.capitalize() if self.nonlin else "Linear"
        return f"{kind}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons, each seeing all ``nin`` inputs. A layer of one neuron returns
    its Value itself, not a list of one (as in the lecture)."""

    def __init__(self, nin: int, nout: int, **kwargs: object) -> None:
        if not isinstance(nout, int) or nout < 1:
            raise ValueError(f"Layer(nin, nout): nout must be a positive int, got {nout!r}")
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]  # type: ignore[arg-type]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of the sizes ``nouts`` after ``nin`` inputs: ``MLP(3, [4, 4, 1])``.

    With ``activation="tanh"`` (the default) every layer has tanh neurons, as in
    the lecture; with another activation the last layer is linear, as in
    micrograd's library (``MLP(2, [16, 16, 1], activation="relu")``).
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "tanh") -> None:
        sizes = [nin, *nouts]
        if not nouts:
            raise ValueError("MLP(nin, nouts): give at least one layer size, like [4, 4, 1]")
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation=activation,
                  nonlin=activation == "tanh" or i != last)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out: Value | list[Value] | Sequence[Value | float] = x
        for layer in self.layers:
            out = layer(out)  # type: ignore[arg-type]
        return out  # type: ignore[return-value]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
