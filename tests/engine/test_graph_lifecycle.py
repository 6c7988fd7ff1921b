"""The graph lifecycle as a state machine: build graphs that share nodes, run
backward with and without ``retain_graph``, and check after every step that each
leaf's ``.grad`` is the sum of the gradients computed so far (by central
differences on a NumPy mirror of the graph), that a graph with a freed node
refuses a second backward, and that a refused backward changes no ``.grad``."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

import chainrule as cr
from strategies import REAL, arrays

Mirror = Callable[[list[np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Node:
    tensor: cr.Tensor
    mirror: Mirror  # the same value computed with NumPy from the leaves' values
    leaves: frozenset[int]  # the leaves it depends on
    inner: frozenset[int]  # the recorded nodes of its graph (itself included)


UNARY: list[tuple[str, Callable[[cr.Tensor], cr.Tensor], Callable[[np.ndarray], np.ndarray]]] = [
    ("tanh", cr.tanh, np.tanh),
    ("sin", cr.sin, np.sin),
    ("neg", lambda t: -t, np.negative),
    ("half", lambda t: t * 0.5, lambda a: a * 0.5),
    ("sigmoid", cr.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
]
BINARY: list[tuple[str, Callable[..., cr.Tensor], Callable[..., np.ndarray]]] = [
    ("add", lambda a, b: a + b, np.add),
    ("sub", lambda a, b: a - b, np.subtract),
    ("mul", lambda a, b: a * b, np.multiply),
]


def _numerical_grad(mirror: Mirror, values: list[np.ndarray], k: int, eps: float = 1e-6
                    ) -> np.ndarray:
    vals = [v.copy() for v in values]
    x = vals[k]
    g = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        keep = x[j]
        x[j] = keep + eps
        plus = mirror(vals).sum()
        x[j] = keep - eps
        minus = mirror(vals).sum()
        x[j] = keep
        g[j] = (plus - minus) / (2 * eps)
    return g


class GraphLifecycle(RuleBasedStateMachine):
    nodes = Bundle("nodes")

    def __init__(self) -> None:
        super().__init__()
        self.leaves: list[cr.Tensor] = []
        self.values: list[np.ndarray] = []
        self.expected: list[np.ndarray | None] = []
        self.freed: set[int] = set()  # nodes a backward has surely freed
        self.maybe_freed: set[int] = set()  # nodes a refused backward may have freed
        self.ids = itertools.count()

    @rule(target=nodes, values=arrays((3,), REAL) | arrays((1,), REAL))
    def leaf(self, values: np.ndarray) -> Node:
        k = len(self.leaves)
        self.leaves.append(cr.tensor(values, requires_grad=True))
        self.values.append(values.copy())
        self.expected.append(None)
        return Node(self.leaves[k], lambda vals: vals[k], frozenset({k}), frozenset())

    @rule(target=nodes, x=nodes, op=st.sampled_from(UNARY))
    def unary(self, x: Node, op: tuple) -> Node:
        _, f, f_np = op
        return Node(f(x.tensor), lambda vals: f_np(x.mirror(vals)), x.leaves,
                    x.inner | {next(self.ids)})

    @rule(target=nodes, a=nodes, b=nodes, op=st.sampled_from(BINARY))
    def binary(self, a: Node, b: Node, op: tuple) -> Node:
        _, f, f_np = op
        return Node(f(a.tensor, b.tensor), lambda vals: f_np(a.mirror(vals), b.mirror(vals)),
                    a.leaves | b.leaves, a.inner | b.inner | {next(self.ids)})

    @rule(x=nodes, retain=st.booleans())
    def backward(self, x: Node, retain: bool) -> None:
        root = x.tensor.sum()
        before = [None if t.grad is None else t.grad.data.copy() for t in self.leaves]
        try:
            root.backward(retain_graph=retain)
        except cr.GraphError as exc:
            # Refused: part of this graph went with an earlier backward. The sweep
            # may have freed the nodes it passed before it met the freed one, so
            # those may refuse later too; every .grad is as it was.
            assert "retain_graph" in str(exc)
            assert x.inner & (self.freed | self.maybe_freed), "refused a live graph"
            self.maybe_freed |= x.inner
            after = [None if t.grad is None else t.grad.data for t in self.leaves]
            for b, a in zip(before, after, strict=True):
                assert (a is None) == (b is None)
                if a is not None:
                    np.testing.assert_array_equal(a, b)
            return
        assert not x.inner & self.freed, "went through a freed graph"
        if not retain:
            self.freed |= x.inner
        for k in x.leaves:
            g = _numerical_grad(x.mirror, self.values, k)
            prev = self.expected[k]
            self.expected[k] = g if prev is None else prev + g

    @rule(x=nodes)
    def drop_grads(self, x: Node) -> None:
        for k in x.leaves:
            self.leaves[k].grad = None
            self.expected[k] = None

    @invariant()
    def grads_are_accumulated_gradients(self) -> None:
        for k, (t, e) in enumerate(zip(self.leaves, self.expected, strict=True)):
            if e is None:
                assert t.grad is None, f"leaf {k}"
            else:
                assert t.grad is not None and t.grad.shape == t.shape, f"leaf {k}"
                np.testing.assert_allclose(t.grad.data, e, rtol=1e-5, atol=1e-6,
                                           err_msg=f"leaf {k}")


TestGraphLifecycle = GraphLifecycle.TestCase
