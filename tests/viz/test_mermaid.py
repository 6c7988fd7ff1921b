"""mermaid(), dot(), render() and the notebook view, for Value and Tensor graphs."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chainrule.errors import GraphError
from chainrule.scalar import Value
from chainrule.viz import GraphvizNotFoundError, dot, format_number, mermaid, render, trace

from .examples import example_1, example_2, example_3, named

# The three diagrams of the seed note 003, as its author drew them by hand.
SEED_003_EXAMPLE_1 = """\
flowchart LR
a["a<br/>data: 3<br/>grad: 4"] --> plus(("+"))
b["b<br/>data: 2<br/>grad: 4"] --> plus
plus --> c["c<br/>data: 5<br/>grad: 4"]
c --> mult(("×"))
d["d<br/>data: 4<br/>grad: 5"] --> mult
mult --> L["L<br/>data: 20<br/>grad: 1"]"""

SEED_003_EXAMPLE_2 = """\
flowchart LR
a["a<br/>data: 2<br/>grad: 6"] --> mult1(("×"))
b["b<br/>data: 3<br/>grad: 4"] --> mult1
mult1 --> c["c<br/>data: 6<br/>grad: 2"]
c --> plus(("+"))
d["d<br/>data: 4<br/>grad: 2"] --> plus
plus --> e["e<br/>data: 10<br/>grad: 2"]
e --> mult2(("×"))
f["f<br/>data: 2<br/>grad: 10"] --> mult2
mult2 --> L["L<br/>data: 20<br/>grad: 1"]"""

SEED_003_EXAMPLE_3 = """\
flowchart LR
x["x<br/>data: 5<br/>grad: 36"] --> plus(("+"))
two["2<br/>(const)"] --> plus
plus --> y["y<br/>data: 7<br/>grad: 15"]
x --> mult1(("×"))
three["3<br/>(const)"] --> mult1
mult1 --> z["z<br/>data: 15<br/>grad: 7"]
y --> mult2(("×"))
z --> mult2
mult2 --> L["L<br/>data: 105<br/>grad: 1"]"""


@pytest.mark.parametrize(
    "build, expected",
    [
        (example_1, SEED_003_EXAMPLE_1),
        (example_2, SEED_003_EXAMPLE_2),
        (example_3, SEED_003_EXAMPLE_3),
    ],
)
def test_mermaid_draws_the_seed_diagrams(build: Any, expected: str) -> None:
    root = build()
    root.backward()
    assert mermaid(root) == expected


def test_before_backward_the_grads_are_zero() -> None:
    assert mermaid(example_1()).splitlines()[1] == 'a["a<br/>data: 3<br/>grad: 0"] --> plus(("+"))'


def test_unlabelled_nodes_get_stable_ids_that_avoid_labels() -> None:
    def build() -> Value:
        v1 = Value(1.0, label="v1")  # a user label that looks like a generated id
        w = Value(2.0)
        return (v1 * w).tanh() + w

    text = mermaid(build())
    assert text == mermaid(build())  # stable: ids depend on the graph, not on memory
    assert text.splitlines() == [
        "flowchart LR",
        'v1["v1<br/>data: 1<br/>grad: 0"] --> mult(("×"))',
        'v2["v2<br/>data: 2<br/>grad: 0"] --> mult',
        'mult --> v3["v3<br/>data: 2<br/>grad: 0"]',
        'v3 --> tanh(("tanh"))',
        'tanh --> v4["v4<br/>data: 0.964<br/>grad: 0"]',
        'v4 --> plus(("+"))',
        "v2 --> plus",
        'plus --> v5["v5<br/>data: 2.964<br/>grad: 0"]',
    ]


def test_a_node_used_twice_gets_two_edges() -> None:
    a = Value(3.0, label="a")
    b = named(a + a, "b")
    b.backward()
    assert mermaid(b).splitlines()[1:] == [
        'a["a<br/>data: 3<br/>grad: 2"] --> plus(("+"))',
        "a --> plus",
        'plus --> b["b<br/>data: 6<br/>grad: 1"]',
    ]


def test_ids_are_safe_and_unique() -> None:
    end = Value(1.0, label="end")  # a Mermaid keyword
    odd = Value(2.0, label='x "quoted" <b>')
    twin = Value(3.0, label="end")
    text = mermaid((end * odd + twin) ** 2 - 1.5)
    assert 'end1["end<br/>' in text and 'end2["end<br/>' in text
    assert 'x_quoted_b["x #quot;quoted#quot; #lt;b#gt;<br/>' in text
    assert 'pow(("**2"))' in text and 'minus(("-"))' in text
    assert 'const["1.5<br/>(const)"]' in text


def test_a_single_node_is_drawn() -> None:
    assert mermaid(Value(2.5, label="w")) == 'flowchart LR\nw["w<br/>data: 2.5<br/>grad: 0"]'


@pytest.mark.parametrize(
    "x, text",
    [
        (3.0, "3"),
        (-0.0, "0"),
        (20.0, "20"),
        (0.5, "0.5"),
        (2 / 3, "0.6667"),
        (-1234.56789, "-1234.5679"),
        (1e-7, "1e-07"),
        (3e20, "3e+20"),
        (float("inf"), "inf"),
        (float("nan"), "nan"),
    ],
)
def test_format_number(x: float, text: str) -> None:
    assert format_number(x) == text


def test_trace_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match="Value or a Tensor, got list"):
        mermaid([1, 2])  # type: ignore[arg-type]


def test_dot_text() -> None:
    root = example_3()
    root.backward()
    text = dot(root)
    assert text.startswith("digraph chainrule {\n  rankdir=LR;")
    assert '  "x" [shape=box, label="x\\ndata: 5\\ngrad: 36"];' in text
    assert '  "two" [shape=box, style=dashed, label="2\\n(const)"];' in text
    assert '  "mult2" [shape=circle, label="×"];' in text
    assert '  "y" -> "mult2";' in text and '  "mult2" -> "L";' in text
    assert text.count("->") == 9 and text.rstrip().endswith("}")


def test_render_uses_the_dot_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    # a stand-in for Graphviz: records its arguments and writes its input as the "image"
    fake.write_text(
        f"#!{sys.executable}\nimport sys\n"
        "out = sys.argv[sys.argv.index('-o') + 1]\n"
        "open(out + '.args', 'w').write(' '.join(sys.argv[1:]))\n"
        "open(out, 'w').write(sys.stdin.read())\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ.get("PATH", ""))
    target = tmp_path / "graph.png"
    assert render(example_1(), target) == target
    assert target.read_text() == dot(example_1())
    assert Path(str(target) + ".args").read_text().startswith("-Tpng -o ")


def test_render_without_graphviz_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz fails
    with pytest.raises(GraphvizNotFoundError, match="Install Graphviz") as info:
        render(example_1(), tmp_path / "g.svg")
    assert "mermaid(root)" in str(info.value)
    with pytest.raises(ValueError, match="svg, png or pdf"):
        render(example_1(), tmp_path / "g.txt")


def test_render_with_real_graphviz(tmp_path: Path) -> None:
    if not __import__("shutil").which("dot"):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: Graphviz's dot is missing (apt-get install graphviz)")
        pytest.skip("Graphviz's dot program is not installed (apt-get install graphviz)")
    target = render(example_3(), tmp_path / "g.svg")
    assert "<svg" in target.read_text()


# -- tensor graphs -----------------------------------------------------------
class FakeOp:
    def __init__(self, name: str) -> None:
        self.name = name


class FakeTensor:
    """The node protocol of chainrule.tensor.Tensor, and nothing else."""

    def __init__(self, data: Any, op: str | None = None, parents: Any = (), label: str = ""):
        self.data = np.asarray(data, dtype=float)
        self.shape = self.data.shape
        self.grad: Any = None
        self._op = FakeOp(op) if op else None
        self._parents = parents
        self.label = label


def test_tensor_protocol_graph() -> None:
    x = FakeTensor(np.ones((4, 5)), label="x")
    w = FakeTensor([1.0, 2.0], label="w")
    y = FakeTensor(np.ones((4, 5)), "mul", (x, 2.0), label="y")
    z = FakeTensor(np.full((3,), 0.5), "matmul", (y, np.eye(3)))
    out = FakeTensor(7.0, "add", (z, w), label="out")
    x.grad = FakeTensor(np.full((4, 5), 2.0))
    w.grad = FakeTensor([1.0, 1.0])
    assert mermaid(out).splitlines() == [
        "flowchart LR",
        # more than 16 entries: the shape, the first entries and the norm
        'x["x<br/>shape (4, 5) float64, entries [1, 1, 1, …], norm 4.4721<br/>'
        'grad: shape (4, 5) float64, entries [2, 2, 2, …], norm 8.9443"] --> mult(("×"))',
        'two["2<br/>(const)"] --> mult',
        'mult --> y["y<br/>shape (4, 5) float64, entries [1, 1, 1, …], norm 4.4721"]',
        'y --> matmul(("@"))',
        'const["[[1, 0, 0], [0, 1, 0], [0, 0, 1]]<br/>(const)"] --> matmul',
        'matmul --> v1["v1<br/>data: [0.5, 0.5, 0.5]"]',
        'v1 --> plus(("+"))',
        'w["w<br/>data: [1, 2]<br/>grad: [1, 1]"] --> plus',
        'plus --> out["out<br/>data: 7"]',
    ]
    assert [n.kind for n in trace(out)] == [
        "input",
        "const",
        "result",
        "const",
        "result",
        "input",
        "result",
    ]


def test_real_tensor_graph() -> None:
    cr = pytest.importorskip("chainrule")
    if not hasattr(cr, "tensor"):
        pytest.skip("the tensor engine is not there")
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x.label = "x"
    loss = (x * 2).sum()
    loss.label = "loss"
    loss.backward(retain_graph=True)
    text = mermaid(loss)
    assert 'x["x<br/>data: [[1, 2], [3, 4]]<br/>grad: [[2, 2], [2, 2]]"] --> mult(("×"))' in text
    assert 'loss["loss<br/>data: 20<br/>grad: 1"]' in text  # the root's gradient, 1
    loss.backward()  # frees what the ops saved, not the graph: it can still be drawn
    assert 'grad: [[4, 4], [4, 4]]"] --> mult' in mermaid(loss)  # two backward passes
    with pytest.raises(GraphError, match="retain_graph=True"):
        loss.backward()
