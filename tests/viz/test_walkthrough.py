"""Seed note 002's walk-through, explained: every number equals the engine's gradient
and the same six steps written by hand in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.engine.sweep import received
from chainrule.viz.numbers import array_text
from chainrule.viz.trace import read
from chainrule.viz.walk import walk

from .examples import seed_002


def test_the_engine_agrees_with_the_hand_computation() -> None:
    ex = seed_002()
    ref = ex.by_hand
    nodes = {n.name: n for n in read(ex.loss).nodes}
    assert ex.loss.item() == pytest.approx(ref["loss"])
    np.testing.assert_allclose(ex.model.fc1.weight.grad.numpy(), ref["dW"], rtol=1e-12)
    np.testing.assert_allclose(ex.model.fc1.bias.grad.numpy(), ref["db"], rtol=1e-12)
    np.testing.assert_allclose(received(nodes["act.out"].obj), ref["dA"], rtol=1e-12)
    np.testing.assert_allclose(received(nodes["fc1.out"].obj), ref["dY"], rtol=1e-12)


def test_the_walk_computes_the_same_numbers_itself() -> None:
    ex = seed_002()
    ref = ex.by_hand
    w = walk(ex.loss)
    grads = {n.name: w.grads[n.index] for n in w.nodes}
    for name, key in [("act.out", "dA"), ("fc1.out", "dY"), ("fc1.weight", "dW"),
                      ("fc1.bias", "db")]:
        np.testing.assert_allclose(grads[name], ref[key], rtol=1e-12, err_msg=name)
        node = next(n for n in w.nodes if n.name == name)
        np.testing.assert_allclose(grads[name], node.gradient, rtol=1e-12, err_msg=name)


def test_explain_walks_the_six_steps_with_the_numbers() -> None:
    ex = seed_002()
    ref = ex.by_hand
    text = cr.explain(ex.loss)
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## 1. The loss gradient: MSELoss",
        "## 2. Back through the activation: act: Sigmoid",
        "## 3. fc1: Linear(3 → 2): the weight gradient, fc1.weight",
        "## 4. fc1: Linear(3 → 2): the bias gradient, fc1.bias",
        "## 5. fc1: Linear(3 → 2): pass the gradient on, to x",
    ]
    t = array_text
    # 1. the loss gradient, also in MSELoss's closed form 2(ŷ - t)/n
    assert f"∂loss/∂act.out = 2·(act.out − target) / n = 2·{t(ref['A'] - [[1, 0], [0, 1]])} " \
           f"/ 4 = {t(ref['dA'])}" in text
    assert f"∂loss/∂act.out = **{t(ref['dA'])}**" in text
    # 2. back through the activation: σ' = σ(1 - σ) ⊙ upstream
    assert "∂loss/∂fc1.out = act.out·(1 - act.out) ⊙ ∂loss/∂act.out" in text
    assert f"local ∂act.out/∂fc1.out = act.out·(1 - act.out) = {t(ref['A'] * (1 - ref['A']))}" \
        in text
    assert f"{t(ref['A'] * (1 - ref['A']))} ⊙ {t(ref['dA'])} = {t(ref['dY'])}" in text
    # 3. the weight gradient: (∂L/∂Y)ᵀ · X, with W as (out, in) as in PyTorch
    assert "∂loss/∂fc1.weight = (∂loss/∂fc1.out)ᵀ · x" in text
    assert f"{t(ref['dY'])}ᵀ · {t(ex.x.numpy())} = {t(ref['dW'])}" in text
    assert f"∂loss/∂fc1.weight = **{t(ref['dW'])}**" in text
    assert f"After backward(), fc1.weight.grad is {t(ref['dW'])}." in text
    # 4. the bias gradient: the sum over the batch, row by row
    assert "∂loss/∂fc1.bias = Σ over the batch of ∂loss/∂fc1.out" in text
    assert f"{t(ref['dY'][0])} + {t(ref['dY'][1])} = {t(ref['db'])}" in text
    # 5. pass the gradient on: ∂L/∂X = ∂L/∂Y · W (x is data: backward() stops there)
    assert "∂loss/∂x = ∂loss/∂fc1.out · fc1.weight" in text
    assert f"{t(ref['dY'])} · {t(ex.model.fc1.weight.numpy())} = {t(ref['dX'])}" in text
    assert "x does not require a gradient (requires_grad=False), so backward() stops here" in text


def test_the_walkthrough_in_float32() -> None:
    ex = seed_002(np.float32)
    w = walk(ex.loss)
    grads = {n.name: w.grads[n.index] for n in w.nodes}
    assert grads["fc1.weight"].dtype == np.float32
    np.testing.assert_allclose(grads["fc1.weight"], ex.by_hand["dW"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grads["fc1.weight"], ex.model.fc1.weight.grad.numpy(), rtol=1e-6)


def test_node_by_node_on_the_same_graph() -> None:
    ex = seed_002()
    text = cr.explain(ex.loss, by="node")
    assert "### fc1.out = linear(x, fc1.weight, fc1.bias) = " in text
    assert "### v1 = act.out - target = " in text
    assert "v1 is used 2 times, so its gradient adds up the paths:" in text
    with pytest.raises(ValueError, match="by must be 'auto', 'node' or 'layer'"):
        cr.explain(ex.loss, by="layers")


def test_a_mlp_after_a_plain_backward_shows_leaf_and_intermediate_gradients() -> None:
    """After loss.backward() without retain_graph, pictures and words show every gradient:
    .grad for the leaves, the gradient each intermediate tensor received for the rest."""
    cr.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    x = cr.tensor(np.random.default_rng(0).normal(size=(2, 3)))
    y = cr.tensor(np.array([[0.5], [-1.0]]))
    loss = ((model(x) - y) ** 2).mean()
    loss.label = "loss"
    loss.backward()
    graph = read(loss)
    mermaid, dot, words = cr.viz.mermaid(loss), cr.viz.dot(loss), cr.explain(loss)
    intermediates = [n for n in graph.nodes if n.kind == "result" and n is not graph.nodes[-1]]
    assert len(intermediates) >= 5
    for node in intermediates:
        g = received(node.obj)
        assert g is not None, node.name
        np.testing.assert_array_equal(node.gradient, g)
        assert f"grad: {array_text(g, 16)}" in mermaid, node.name
        assert f"grad: {array_text(g, 16)}" in dot, node.name
        assert f"∂loss/∂{node.name} = **{array_text(g)}**" in words, node.name
    for name, p in model.named_parameters():
        g = p.grad.numpy()
        assert f'{name}<br/>data: {array_text(p.numpy(), 16)}' in mermaid or \
            f"{name}<br/>shape {p.shape}" in mermaid
        assert f"∂loss/∂{name} = **{array_text(g)}**" in words
        assert f"After backward(), {name}.grad is {array_text(g)}." in words
    assert "0.weight" in mermaid and "2.bias" in dot  # the model's own names
    with pytest.raises(cr.GraphError, match="retain_graph=True"):
        loss.backward()  # the graph was released, as promised, yet it was drawn above


def test_the_docs_print_what_explain_prints() -> None:
    """docs/seeing.md shows seed 002's explanation as printed: run its code, compare."""
    import contextlib
    import io
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "seeing.md").read_text("utf-8")
    code = re.search(r"```python\n(.*?)```", doc, re.S).group(1)  # type: ignore[union-attr]
    printed = re.search(r"```markdown\n(.*?)```", doc, re.S).group(1)  # type: ignore[union-attr]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/seeing.md", "exec"), {"__name__": "docs"})  # noqa: S102
    assert out.getvalue() == printed
