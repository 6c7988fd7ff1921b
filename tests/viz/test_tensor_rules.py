"""Each tensor op family explained with its numbers; names from models; odd values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import Value, nn
from chainrule.viz.numbers import array_text, summary
from chainrule.viz.trace import read
from chainrule.viz.walk import walk


def leaf(a: Any, label: str) -> cr.Tensor:
    t = cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
    t.label = label
    return t


def engine_and_walk_agree(root: cr.Tensor) -> None:
    """The walk's own numbers equal the gradients backward() computed, node by node."""
    w = walk(root)
    checked = 0
    for node in w.nodes:
        if node.gradient is not None and w.grads[node.index] is not None:
            np.testing.assert_allclose(w.grads[node.index], node.gradient, rtol=1e-10,
                                       err_msg=node.name)
            checked += 1
    assert checked >= 2


def test_matmul_in_matrix_form() -> None:
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "X")
    W = leaf([[0.5, -1.0], [2.0, 0.0], [1.0, 1.0]], "W")
    y = x @ W
    y.label = "Y"
    loss = (y * y).sum()
    loss.label = "L"
    loss.backward()
    text = cr.explain(loss)
    G = 2 * (x.numpy() @ W.numpy())
    assert "∂L/∂W = Xᵀ · ∂L/∂Y" in text
    assert f"{array_text(x.numpy())}ᵀ · {array_text(G)} = {array_text(x.numpy().T @ G)}" in text
    assert "∂L/∂X = ∂L/∂Y · Wᵀ" in text
    assert f"{array_text(G)} · {array_text(W.numpy())}ᵀ = {array_text(G @ W.numpy().T)}" in text
    engine_and_walk_agree(loss)


def test_a_broadcast_sum_is_spelled_out() -> None:
    x = leaf(np.arange(6.0).reshape(2, 3), "x")
    b = leaf([1.0, 2.0, 3.0], "b")
    loss = ((x + b) * x).sum()
    loss.label = "L"
    loss.backward()
    text = cr.explain(loss)
    assert "summed over axis 0, where b (3,) was broadcast to (2, 3): [3, 5, 7]" in text
    assert "After backward(), b.grad is [3, 5, 7]." in text
    engine_and_walk_agree(loss)


def test_reductions_along_an_axis_and_a_power() -> None:
    x = leaf([[1.0, -2.0], [3.0, 0.5]], "x")
    loss = (x**2).mean(axis=1).sum()
    loss.label = "L"
    loss.backward()
    text = cr.explain(loss)
    assert "v1 = x ** 2 = [[1, 4], [9, 0.25]]" in text  # the exponent is there
    assert "local ∂v1/∂x = 2·x = [[2, -4], [6, 1]]" in text
    assert "∂L/∂v1 = ∂L/∂v2 / n, copied back along axis 1 (n = 2)" in text
    engine_and_walk_agree(loss)


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x.softmax(axis=1)[:, 0].sum(),
        lambda x: x[0].exp().sum() + x.T.reshape(4).max(),
        lambda x: cr.where(x > 0, x, x * 0.1).logsumexp(axis=0).sum(),
        lambda x: cr.concatenate([x, x * 2], 0).prod(),
    ],
)
def test_other_ops_get_their_formula_and_the_numbers(make: Any) -> None:
    x = leaf([[0.3, -1.2], [2.0, 0.7]], "x")
    root = make(x)
    root.backward()
    text = cr.explain(root)
    assert "by y = " in text or " ⊙ " in text  # the registry's formula, or an elementwise rule
    assert f"After backward(), x.grad is {array_text(x.grad.numpy())}." in text
    engine_and_walk_agree(root)


def test_a_custom_gate_after_backward_is_explained_without_numbers_it_cannot_recompute() -> None:
    class Cube(cr.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    x = leaf([1.0, 2.0], "x")
    root = Cube.apply(x).sum()
    root.backward()
    text = cr.explain(root)
    assert f"x.grad is {array_text(x.grad.numpy())}" in text or "cannot be recomputed" in text
    assert "Cube" in text
    cr.viz.html(root)  # and the page is made


def test_a_large_tensor_shows_its_shape_first_entries_and_norm() -> None:
    x = leaf(np.ones((10, 10)), "x")
    loss = (x * 2).sum()
    loss.label = "L"
    loss.backward()
    text = cr.explain(loss)
    assert "### x = shape (10, 10) float64, entries [1, 1, 1, …], norm 10 (input)" in text
    assert "After backward(), x.grad is shape (10, 10) float64, entries [2, 2, 2, …], norm 20." \
        in text
    assert summary(np.arange(3.0)) == "shape (3,) float64, entries [0, 1, 2], norm 2.2361"


def test_before_backward_explain_says_so_and_computes_the_gradients() -> None:
    x = leaf([1.0, 2.0], "x")
    loss = (x * x).sum()
    loss.label = "L"
    text = cr.explain(loss)
    assert "backward() has not run from L yet, so no .grad is filled in" in text
    assert "∂L/∂x = [1, 2] + [1, 2] = **[2, 4]**" in text
    assert x.grad is None


@pytest.mark.parametrize("odd", [1e999, float("nan"), -1e308, 1e300])
def test_inf_nan_and_huge_constants_never_crash(odd: float) -> None:
    a = Value(2.0, label="a")
    v = (a * odd + 1) * a
    v.backward()
    for draw in (cr.viz.mermaid, cr.viz.dot, cr.viz.text, cr.viz.html, cr.explain):
        assert isinstance(draw(v), str)
    x = leaf([1.0, 2.0], "x")
    with np.errstate(all="ignore"):  # the values themselves overflow, in NumPy as here
        t = (x * odd + np.array([odd, 1.0])).sum()
        t.backward()
        for draw in (cr.viz.mermaid, cr.viz.dot, cr.viz.text, cr.viz.html, cr.explain):
            assert isinstance(draw(t), str)


def test_parameters_are_named_by_the_model() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    out = model(cr.ones((4, 2))).sum()
    out.backward()
    names = [n.name for n in read(out).nodes]
    for name in ("0.weight", "0.bias", "2.weight", "2.bias", "0.out", "1.out", "2.out"):
        assert name in names
    layers = read(out).layers
    assert [c.title for c in layers.calls] == ["0: Linear(2 → 3)", "1: ReLU", "2: Linear(3 → 1)"]
    text = cr.viz.mermaid(out)
    assert 'subgraph layer_0 ["0: Linear(2 → 3)"]' in text and "end" in text.splitlines()


def test_two_models_are_told_apart_and_labels_win() -> None:
    first, second = nn.Linear(2, 2), nn.Linear(2, 1)
    second.bias.label = "b_out"
    out = second(first(cr.ones((1, 2)))).sum()
    names = [n.name for n in read(out).nodes]
    assert {"linear1.weight", "linear1.bias", "linear2.weight", "b_out"} <= set(names)
    assert "linear1.out" in names


def test_a_module_called_twice_gets_two_boxes() -> None:
    layer = nn.Linear(2, 2)
    out = layer(layer(cr.ones((1, 2)))).sum()
    calls = read(out).layers.calls
    assert len(calls) == 2 and len({c.ident for c in calls}) == 2
    assert {"linear.out", "linear.out2"} <= {n.name for n in read(out).nodes}


def test_cr_explain_stays_the_function_after_its_package_is_imported() -> None:
    import chainrule.explain

    root = Value(2.0, label="a") * 3
    assert cr.explain(root) == chainrule.explain.explain(root) == chainrule.explain(root)


def test_without_recording_a_module_notes_nothing() -> None:
    layer = nn.Linear(2, 2)
    with cr.no_grad():
        out = layer(cr.ones((1, 2)))
    assert out._extra is None  # nothing noted, nothing kept alive
    y = layer(cr.ones((1, 2)))
    assert y._extra["modules"][0][0] is layer
