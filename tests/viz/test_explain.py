"""explain(): the backward pass in words, computed from the graph, changing nothing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from chainrule.explain import explain
from chainrule.scalar import Value

# Seed note 003, example 3, told the way the note tells it: x feeds two paths,
# through y (15 × 1) and through z (7 × 3), and its gradient is their sum, 36.
EXAMPLE_3 = """\
# Backward pass from L

Forward pass: y = x + 2 = 7, z = x × 3 = 15, L = y × z = 105.

Going backwards from L, the gradient ∂L/∂n of each node n is the local derivative \
of the operation n feeds times the upstream gradient arriving there; a node that \
feeds several operations adds up one such product per path to L.

### L = y × z = 105
The starting point: ∂L/∂L = **1**.

### z = x × 3 = 15
- path through L = y × z: local ∂L/∂z = y = 7, upstream ∂L/∂L = 1 → 7 × 1 = 7

∂L/∂z = **7**

### y = x + 2 = 7
- path through L = y × z: local ∂L/∂y = z = 15, upstream ∂L/∂L = 1 → 15 × 1 = 15

∂L/∂y = **15**

### x = 5 (input)
x is used 2 times, so its gradient adds up the paths:
- path through y = x + 2: local ∂y/∂x = 1, upstream ∂L/∂y = 15 → 1 × 15 = 15
- path through z = x × 3: local ∂z/∂x = 3, upstream ∂L/∂z = 7 → 3 × 7 = 21

∂L/∂x = 15 + 21 = **36**
"""


def named(v: Value, label: str) -> Value:
    v.label = label
    return v


def example_3() -> tuple[Value, ...]:
    x = Value(5.0, label="x")
    y = named(x + 2, "y")
    z = named(x * 3, "z")
    return x, y, z, named(y * z, "L")


def test_explain_seed_003_example_3() -> None:
    *_, L = example_3()
    assert explain(L) == EXAMPLE_3


def test_explain_reads_the_graph_and_changes_no_grad() -> None:
    nodes = example_3()
    before = explain(nodes[-1])  # no backward yet: explain computes the gradients itself
    assert [n.grad for n in nodes] == [0, 0, 0, 0]
    nodes[-1].backward()
    grads = [n.grad for n in nodes]
    assert explain(nodes[-1]) == before
    assert [n.grad for n in nodes] == grads == [36, 15, 7, 1]


def test_explain_a_node_used_twice_by_one_gate() -> None:
    a = Value(3.0, label="a")
    text = explain(named(a + a, "b"))
    assert "- path through b = a + a (its first input): local ∂b/∂a = 1" in text
    assert "- path through b = a + a (its second input): local ∂b/∂a = 1" in text
    assert "∂b/∂a = 1 + 1 = **2**" in text


def test_explain_writes_each_local_derivative() -> None:
    w = Value(0.5, label="w")
    o = named((w**2).tanh() / (1 - w), "o")
    text = explain(o)
    assert "Forward pass: v1 = w ** 2 = 0.25, v2 = tanh(v1) = 0.2449, v3 = 1 - w = 0.5" in text
    assert "local ∂o/∂v3 = -v2 / (v3·v3) = -0.9797" in text
    assert "local ∂o/∂v2 = 1 / v3 = 2," in text
    assert "local ∂v2/∂v1 = 1 - v2·v2 = 0.94," in text
    assert "local ∂v1/∂w = 2·w = 1," in text
    assert "(-1) × (-0.9797) = 0.9797" in text
    o.backward()
    assert f"∂o/∂w = 1.88 + 0.9797 = **{round(w.grad, 4)}**" in text


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda x: x.exp(), "∂v1/∂x = v1 = 20.0855"),
        (lambda x: x.log(), "1 / x = 0.3333"),
        (lambda x: x.sigmoid(), "v1·(1 - v1) = 0.0452"),
        (lambda x: x.relu(), "1 if x > 0 else 0 = 1"),
        (lambda x: x.sin(), "cos(x) = -0.99"),
        (lambda x: x.cos(), "-sin(x) = -0.1411"),
        (lambda x: x.sqrt(), "0.5 / v1 = 0.2887"),
        (lambda x: x.abs(), "sign(x) = 1"),
        (lambda x: -x, "local ∂v1/∂x = -1,"),
        (lambda x: x**3, "3·x^2 = 27"),
        (lambda x: x**-0.5, "-0.5·x^-1.5"),
    ],
)
def test_explain_every_unary_gate(make: Any, words: str) -> None:
    assert words in explain(make(Value(3.0, label="x")))


def test_explain_a_lone_input() -> None:
    assert explain(Value(2.0, label="w")).endswith(
        "### w = 2 (input)\nThe starting point: ∂w/∂w = **1**.\n"
    )


def test_explain_a_tensor_graph() -> None:
    cr = pytest.importorskip("chainrule")
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x.label = "x"
    h = x * x
    h.label = "h"
    loss = (h + x).sum()
    loss.label = "loss"
    loss.backward()
    text = explain(loss)
    assert "### loss = sum(v1) = 70\nThe starting point: ∂loss/∂loss = **1**." in text
    assert "### h = x × x = [[0, 1, 4], [9, 16, 25]]\n" in text
    assert ("- path through loss = sum(v1): ∂loss/∂v1 = ∂loss/∂loss, copied back to every "
            "entry") in text
    assert "x is used 3 times, so its gradient adds up the paths:" in text
    assert "- path through h = x × x (its first input): ∂loss/∂x = x ⊙ ∂loss/∂h" in text
    assert "  - local ∂h/∂x = x = [[0, 1, 2], [3, 4, 5]]" in text
    # the fan-out sum, spelled out: x·g + x·g + g
    assert ("∂loss/∂x = [[0, 1, 2], [3, 4, 5]] + [[0, 1, 2], [3, 4, 5]] + [[1, 1, 1], [1, 1, 1]] "
            "= **[[1, 3, 5], [7, 9, 11]]**") in text
    assert "After backward(), x.grad is [[1, 3, 5], [7, 9, 11]]." in text
