"""micrograd's lecture on chainrule: the tutorial in docs/ runs, block by block, and the
pieces it relies on (_prev, _op, _backward, draw_dot, chainrule.micro) behave."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from chainrule import Value
from chainrule.micro import MLP, Layer, Neuron

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "micrograd.md"


def test_the_tutorial_runs() -> None:
    pytest.importorskip("graphviz", reason="the tutorial's draw_dot needs the graphviz package "
                        "(pip install graphviz)")
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 12
    namespace: dict[str, object] = {"__name__": "tutorial"}
    for k, block in enumerate(blocks):
        code = compile(block, f"{TUTORIAL.name}, block {k + 1}", "exec")
        exec(code, namespace)  # noqa: S102 - our own tutorial, run as its reader would


def test_backward_node_by_node_equals_backward() -> None:
    def build() -> tuple[Value, ...]:
        x, w = Value(0.5, label="x"), Value(-1.5, label="w")
        h = (x * w + 1).tanh()
        return x, w, h * h + x

    x, w, out = build()
    order: list[Value] = []
    seen: set[Value] = set()
    stack = [(out, False)]
    while stack:  # reverse topological order through _prev
        v, done = stack.pop()
        if done:
            order.append(v)
        elif v not in seen:
            seen.add(v)
            stack.append((v, True))
            stack += [(c, False) for c in v._prev]
    out.grad = 1.0
    for v in reversed(order):
        v._backward()
    by_hand = (x.grad, w.grad)
    x2, w2, out2 = build()
    out2.backward()
    assert by_hand == pytest.approx((x2.grad, w2.grad), rel=1e-12)


def test_draw_dot_gives_a_digraph() -> None:
    graphviz = pytest.importorskip("graphviz", reason="pip install graphviz")
    a = Value(2.0, label="a")
    L = a * 3 + a
    L.label = "L"
    L.backward()
    g = __import__("chainrule").viz.draw_dot(L)
    assert isinstance(g, graphviz.Digraph)
    assert "{ a | data: 2 | grad: 4 }" in g.source
    assert "rankdir=LR" in g.source and "shape=record" in g.source
    assert "-> plus" in g.source


def test_draw_dot_without_the_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[viz\]'"):
        __import__("chainrule").viz.draw_dot(Value(1.0))


def test_micro_names_and_shapes() -> None:
    random.seed(0)
    neuron = Neuron(3)
    assert len(neuron.parameters()) == 4 and repr(neuron) == "TanhNeuron(3)"
    layer = Layer(3, 2)
    assert len(layer([1.0, 2.0, 3.0])) == 2  # type: ignore[arg-type]
    assert isinstance(Layer(3, 1)([1.0, 2.0, 3.0]), Value)  # one neuron: its Value itself
    relu = MLP(2, [16, 16, 1], activation="relu")
    assert repr(relu.layers[-1].neurons[0]) == "LinearNeuron(16)"
    assert repr(relu.layers[0].neurons[0]) == "ReluNeuron(2)"
    assert len(relu.parameters()) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1


def test_micro_zero_grad_and_training_step() -> None:
    random.seed(3)
    model = MLP(2, [3, 1])
    out = model([1.0, -1.0])
    assert isinstance(out, Value)
    out.backward()
    assert any(p.grad for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Neuron(0), "nin must be a positive int"),
        (lambda: Neuron(2, activation="gelu"), "activation must be one of tanh, relu, sigmoid"),
        (lambda: Layer(2, 0), "nout must be a positive int"),
        (lambda: MLP(2, []), "give at least one layer size"),
        (lambda: Neuron(2)([1.0, 2.0, 3.0]), r"TanhNeuron\(2\) takes 2 inputs, got 3"),
    ],
)
def test_micro_errors_say_what_to_do(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]
