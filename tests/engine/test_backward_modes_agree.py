"""One reverse sweep, run three ways: ``backward()`` runs the rules on arrays,
``backward(create_graph=True)`` runs them on Tensors (``ops.traced``) so they are
recorded, and ``cr.grad`` stops at its inputs. On random graphs with shared nodes,
broadcasting and constants, the three must give the same gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

SHAPES = [(), (3,), (1, 3), (2, 3), (2, 1)]
UNARY = ["tanh", "sin", "sigmoid", "neg", "square"]
REDUCE = ["sum0", "mean", "none"]
BINARY_OPS = {  # (x, another node w, a Python number c)
    "add": lambda x, w, c: x + w,
    "sub": lambda x, w, c: x - w,
    "mul": lambda x, w, c: x * w,
    "add_const": lambda x, w, c: x + c,
    "mul_const": lambda x, w, c: c * x,
    "rsub_const": lambda x, w, c: c - x,
    "div_const": lambda x, w, c: x / c,
}


@st.composite
def programs(draw: Any) -> tuple[list[np.ndarray], list[tuple]]:
    n_leaves = draw(st.integers(1, 3))
    leaves = [draw(st.sampled_from(SHAPES)) for _ in range(n_leaves)]
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    values = [rng.uniform(-1.5, 1.5, s) for s in leaves]
    steps = []
    n_nodes = n_leaves
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["unary", "binary", "reduce"]))
        a = draw(st.integers(0, n_nodes - 1))  # any earlier node: graphs share nodes
        if kind == "unary":
            steps.append(("unary", draw(st.sampled_from(UNARY)), a))
        elif kind == "binary":
            b = draw(st.integers(0, n_nodes - 1))
            c = draw(st.floats(0.5, 2.0))
            steps.append(("binary", draw(st.sampled_from(sorted(BINARY_OPS))), a, b, c))
        else:
            steps.append(("reduce", draw(st.sampled_from(REDUCE)), a))
        n_nodes += 1
    return values, steps


def run(leaves: list[Any], steps: list[tuple]) -> Any:
    nodes = list(leaves)
    for step in steps:
        x = nodes[step[2]]
        if step[0] == "unary":
            name = step[1]
            y = x * x if name == "square" else -x if name == "neg" else getattr(cr, name)(x)
        elif step[0] == "binary":
            _, name, _, b, c = step
            y = BINARY_OPS[name](x, nodes[b], c)
        else:
            name = step[1]
            if name == "sum0" and x.ndim:
                y = x.sum(axis=0)
            elif name == "mean":
                y = x.mean()
            else:
                y = x
        nodes.append(y)
    total = nodes[-1].sum()
    for extra in nodes[len(leaves):-1:3]:  # more than one path into the root
        total = total + extra.sum()
    return total


@settings(max_examples=150, deadline=None)
@given(programs(), st.sampled_from([np.float64, np.float32]))
def test_backward_and_grad_agree(program: tuple, dtype: Any) -> None:
    values, steps = program
    leaves = [cr.tensor(v.astype(dtype), requires_grad=True) for v in values]
    run(leaves, steps).backward()

    def f(*xs: Any) -> Any:
        return run(list(xs), steps)

    by_transform = cr.grad(f, argnums=tuple(range(len(values))))(
        *[v.astype(dtype) for v in values]
    )
    tol = 1e-12 if dtype == np.float64 else 1e-6
    for leaf, g in zip(leaves, by_transform, strict=True):
        expected = np.asarray(g)
        got = np.zeros_like(expected) if leaf.grad is None else leaf.grad.data
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


@settings(max_examples=60, deadline=None)
@given(programs())
def test_retained_graph_accumulates_and_create_graph_agrees(program: tuple) -> None:
    values, steps = program
    leaves = [cr.tensor(v, requires_grad=True) for v in values]
    root = run(leaves, steps)
    root.backward(retain_graph=True)
    once = [None if t.grad is None else t.grad.data.copy() for t in leaves]
    root.backward()  # the same graph again: every .grad doubles
    for t, g in zip(leaves, once, strict=True):
        if g is not None:
            np.testing.assert_allclose(t.grad.data, 2 * g, rtol=1e-12, atol=1e-12)

    recorded = [cr.tensor(v, requires_grad=True) for v in values]
    run(recorded, steps).backward(create_graph=True)  # the general sweep
    for t, g in zip(recorded, once, strict=True):
        if g is None:
            assert t.grad is None or not np.any(t.grad.data)
        else:
            np.testing.assert_allclose(t.grad.data, g, rtol=1e-12, atol=1e-12)
