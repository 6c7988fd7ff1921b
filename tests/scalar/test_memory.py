"""Graphs are freed by reference counting alone, and depth is no problem."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import weakref
from collections.abc import Iterator

import pytest

from chainrule.graph import toposort
from chainrule.scalar import Value, jvp


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build() -> tuple[Value, Value]:
    x = Value(0.7, label="x")
    y = ((x * 2).tanh() + x / 3 - 1).exp() * x.sigmoid() + (2 - x) ** 2 + x.relu().sqrt()
    return x, y


@pytest.mark.parametrize("run_backward", [False, True])
def test_a_dropped_graph_is_freed_without_the_cycle_collector(
    no_cycle_collector: None, run_backward: bool
) -> None:
    x, y = build()
    if run_backward:
        y.backward()
    nodes = [weakref.ref(n) for n in toposort(y, lambda v: v.inputs) if n is not x]
    assert len(nodes) > 15
    del y
    assert [r for r in nodes if r() is not None] == []
    assert x.data == 0.7  # the input itself lives on


def test_forward_mode_graphs_are_freed_too(no_cycle_collector: None) -> None:
    refs: list[weakref.ref[Value]] = []

    def f(x: Value) -> Value:
        out = (x * x).sin() + 1
        refs.extend(weakref.ref(n) for n in toposort(out, lambda v: v.inputs))
        return out

    assert jvp(f, [2.0], [1.0])[1] == pytest.approx(4 * __import__("math").cos(4.0))
    assert [r for r in refs if r() is not None] == []


def test_jvp_is_one_forward_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_backward(self: Value) -> None:
        raise AssertionError("jvp must not run a backward pass")

    monkeypatch.setattr(Value, "backward", no_backward)
    value, tangent = jvp(lambda x, y: x * y + 2 * x, [3.0, 4.0], [1.0, 10.0])
    assert (value, tangent) == (18.0, (4 + 2) * 1.0 + 3 * 10.0)


def test_jvp_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        jvp(lambda x, y: x * y, [1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match="tangent"):
        jvp(lambda x: x, [1.0], ["a"])  # type: ignore[list-item]
    assert jvp(lambda x: 3.0, [1.0], [1.0]) == (3.0, 0.0)  # a constant function
    assert jvp(lambda x: x.exp(), [Value(0.0)], [2.0]) == (1.0, 2.0)


CHAIN = """
import gc, sys
from chainrule.scalar import Value
gc.disable()  # the collector is not under test here; it only slows the build down
x = Value(0.5)
y = x
for _ in range(500_000):
    y = y + x          # a binary gate: x is used half a million times
for _ in range(500_000):
    y = -y             # a unary gate
y.backward()           # a chain 1,000,000 nodes deep: no recursion anywhere
assert x.grad == 500_001.0, x.grad
del y                  # freeing the chain must not overflow the C stack
print("ok")
"""


def test_a_million_node_chain_backpropagates_and_is_freed() -> None:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHAIN)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
