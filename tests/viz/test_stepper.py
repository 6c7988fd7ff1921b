"""The stepper page without a browser: what it holds, its steps, its layouts."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule.viz import html, save_html
from chainrule.viz.layout import Shape, layered, layout
from chainrule.viz.stepper import steps
from chainrule.viz.svg import draw
from chainrule.viz.trace import read
from chainrule.viz.walk import walk

from .examples import example_1, example_2, example_3, seed_002


def data_of(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="steps">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_the_page_loads_nothing_from_anywhere() -> None:
    root = example_3()
    root.backward()
    page = html(root)
    without_namespace = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in without_namespace and "https://" not in without_namespace
    assert not re.search(r"<(script|img|iframe|link)[^>]*\s(src|href)=\"(?!data:)", page)
    assert "@import" not in page and "url(" not in page.replace("url(#cr-arrow)", "")
    assert page.count("<script") == 2  # the steps (JSON) and the stepper itself, inline
    assert 'role="status"' in page and ">Back</button>" in page and ">Next</button>" in page


def test_seed_003_example_3_steps() -> None:
    root = example_3()
    root.backward()
    texts = [s["text"] for s in steps(walk(root))]
    assert texts[0].startswith("Start at L = 105: the gradient of L with respect to itself "
                               "is ∂L/∂L = 1.")
    assert texts[1] == ("z ← L = y × z:\nlocal ∂L/∂z = y = 7, upstream ∂L/∂L = 1 → 7 × 1 = 7\n"
                        "So ∂L/∂z = 7.")
    assert texts[3].startswith("x ← y = x + 2:\nlocal ∂y/∂x = 1, upstream ∂L/∂y = 15 → "
                               "1 × 15 = 15\n")
    assert texts[3].endswith("running sum so far: ∂L/∂x = 15")
    assert texts[4].startswith("x ← z = x × 3:\nlocal ∂z/∂x = 3, upstream ∂L/∂z = 7 → 3 × 7 = 21\n")
    assert texts[4].endswith("all paths in: ∂L/∂x = 15 + 21 = 36")
    assert texts[-1].startswith("Done:")
    plan = data_of(html(root))["steps"]
    assert [s["edge"] for s in plan] == [None, "e5_1", "e5_0", "e2_0", "e4_0", None]
    assert plan[4]["set"] == {"0": ["grad: 36"]} and plan[3]["set"] == {"0": ["grad: 15"]}


@pytest.mark.parametrize("build", [example_1, example_2, example_3])
def test_every_seed_graph_ends_with_the_gradients_backward_computes(build: Any) -> None:
    root = build()
    root.backward()
    shown: dict[str, list[str]] = {}
    for s in data_of(html(root))["steps"]:
        shown.update(s["set"])
    for node in read(root).nodes:
        if node.kind != "const":
            assert shown[str(node.index)] == [f"grad: {node.grad}"], node.name


def test_before_backward_the_page_says_so() -> None:
    root = example_3()
    page = html(root)
    assert "backward() has not run from L yet, so every .grad is still 0" in page
    assert data_of(page)["ran"] is False
    root.backward()
    assert "has not run" not in html(root)
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert "every .grad is still None" in html((x * x).sum())


def test_a_tensor_graph_steps_with_its_rules() -> None:
    ex = seed_002()
    plan = data_of(html(ex.loss))["steps"]
    texts = "\n".join(s["text"] for s in plan)
    assert "fc1.weight ← fc1.out = linear(x, fc1.weight, fc1.bias):" in texts
    assert "∂loss/∂fc1.weight = (∂loss/∂fc1.out)ᵀ · x" in texts
    assert "local ∂act.out/∂fc1.out = act.out·(1 - act.out)" in texts
    assert "v1 feeds 2 operations, so its gradient is a sum; all paths in" in texts
    page = html(ex.loss)
    assert "fc1: Linear(3 → 2)" in page and "act: Sigmoid" in page  # the layers, framed


def test_save_html_writes_the_page(tmp_path: Path) -> None:
    root = example_1()
    root.backward()
    path = save_html(root, tmp_path / "steps.html")
    assert path.read_text(encoding="utf-8") == html(root)
    with pytest.raises(ValueError, match="engine must be"):
        html(root, engine="circo")


def test_a_graph_too_large_to_step_through_says_what_to_do() -> None:
    big = cr.Value(0.0)
    for _ in range(500):
        big = big + 1
    with pytest.raises(ValueError, match="more than 400 nodes.*one example of a batch"):
        html(big)


# -- layouts ------------------------------------------------------------------
def boxes_of(root: Any, engine: str) -> tuple[dict[str, tuple[float, float, float, float]], Any]:
    svg = draw(read(root), engine=engine).svg
    found = {}
    for ident, x, y, w, h in re.findall(
        r'<g id="(n\d+)"><rect x="([-\d.]+)" y="([-\d.]+)" width="([\d.]+)" height="([\d.]+)"',
        svg,
    ):
        found[ident] = (float(x), float(y), float(x) + float(w), float(y) + float(h))
    return found, svg


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


ENGINES = ["layered", "graphviz"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("build", [example_1, example_2, example_3, lambda: seed_002().loss])
def test_layouts_place_boxes_apart_inputs_left_of_outputs(engine: str, build: Any) -> None:
    if engine == "graphviz" and not shutil.which("dot"):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: Graphviz's dot is missing (apt-get install graphviz)")
        pytest.skip("Graphviz's dot program is not installed (apt-get install graphviz)")
    root = build()
    boxes, svg = boxes_of(root, engine)
    nodes = read(root).nodes
    assert len(boxes) == len(nodes)
    keys = sorted(boxes)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            assert not overlap(boxes[a], boxes[b]), (a, b)
    for node in nodes:
        for i in node.inputs:  # every input's box ends left of the box it feeds
            assert boxes[f"n{i}"][2] < boxes[f"n{node.index}"][0]
    width = float(re.search(r'width="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert all(b[2] <= width for b in boxes.values())


def test_the_layered_layout_on_its_own() -> None:
    shapes = [Shape(name, 40, 20) for name in ("a", "b", "c", "d")]
    placed = layered(shapes, [("a", "c"), ("b", "c"), ("c", "d"), ("a", "d")])
    xs = {k: v[0] for k, v in placed.centres.items()}
    assert xs["a"] == xs["b"] < xs["c"] < xs["d"]
    assert len(placed.edges) == 4 and len(placed.edges[3]) == 7  # a→d passes a waypoint
    assert placed.edges[3][0][0] == xs["a"] + 20  # it leaves a's right side


def test_a_graphviz_layout_is_asked_for_but_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt install graphviz"):
        layout([Shape("a", 10, 10)], [], [], engine="graphviz")
    assert layout([Shape("a", 10, 10)], [], []).engine == "layered"  # auto falls back


def test_the_picture_shows_intermediate_gradients_and_huge_numbers() -> None:
    x = cr.tensor(np.array([1e300, -2.0]), requires_grad=True)
    with np.errstate(all="ignore"):
        y = (x * x).sum()
        y.backward()
    svg = draw(read(y)).svg
    assert "grad: [2e+300, -4]" in svg and "data: [1e+300, -2]" in svg and "data: inf" in svg
