"""Graph lifetime: buffers go as soon as nothing needs them, by reference
counting alone (the cyclic collector is switched off while we look), and a
long training loop does not grow."""

from __future__ import annotations

import contextlib
import gc
import tracemalloc
import weakref
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import chainrule as cr


@contextlib.contextmanager
def refcounting_only() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off: only refcounts free memory."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def cyclic_garbage(run: Callable[[], None]) -> list[object]:
    """The objects ``run`` left behind that only the cyclic collector could free."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # keep what the collector finds, so we can look at it
    try:
        run()
        gc.collect()
        found = list(gc.garbage)
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        if was_enabled:
            gc.enable()
    return found


def _leaf() -> cr.Tensor:
    return cr.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=cr.float64, requires_grad=True)


# ---------------------------------------------------------------- freed by refcounting
def test_intermediate_lives_with_the_output_after_backward() -> None:
    """After backward() the graph's structure stays (to be drawn and explained); the
    intermediate and its data go as soon as the user drops the output."""
    with refcounting_only():
        x = _leaf()
        h = x.exp()  # saved: the product below and sin need its value
        y = (h * h.sin()).sum()
        h_ref, h_data_ref = weakref.ref(h), weakref.ref(h.data)
        del h
        y.backward()
        e = np.exp(x.data)
        np.testing.assert_allclose(x.grad.data, e * np.sin(e) + e * e * np.cos(e))
        assert h_ref() is not None, "the graph survives backward()"
        assert "exp" in cr.viz.mermaid(y)
        del y
        assert h_ref() is None and h_data_ref() is None


def test_retain_graph_allows_a_second_backward_and_a_plain_one_releases() -> None:
    with refcounting_only():
        x = _leaf()
        h = x.tanh()
        y = (h * h).sum()
        h_ref = weakref.ref(h)
        del h
        y.backward(retain_graph=True)
        y.backward()
        np.testing.assert_allclose(x.grad.data, 2 * 2 * np.tanh(x.data) / np.cosh(x.data) ** 2)
        with pytest.raises(cr.GraphError, match="retain_graph=True"):
            y.backward()
        assert h_ref() is not None
        del y
        assert h_ref() is None


def test_graph_is_freed_when_the_output_is_dropped_without_backward() -> None:
    with refcounting_only():
        x = _leaf()
        w = cr.tensor(np.ones((2, 3)), requires_grad=True)
        a = x @ w
        b = a.relu()
        c = b.softmax(-1)[:, ::-1]
        y = cr.concatenate([c, b], 0).logsumexp()
        refs = [weakref.ref(t) for t in (a, b, c, y)] + [weakref.ref(a.data)]
        del a, b, c
        assert all(r() is not None for r in refs)
        del y
        assert [r() is None for r in refs] == [True] * len(refs)
        assert x.grad is None and w.grad is None


def test_graph_built_in_a_function_and_dropped() -> None:
    def loss(x: cr.Tensor) -> weakref.ref:
        y = ((x * 2).exp() @ x.T).sum()
        return weakref.ref(y)

    with refcounting_only():
        x = _leaf()
        assert loss(x)() is None


# ---------------------------------------------------------------- no reference cycles
def _backward() -> None:
    x = _leaf()
    ((x @ x).tanh()[0] * x.sum(0)).sum().backward()


def _retain_then_drop() -> None:
    x = _leaf()
    y = (x.exp() * x).max(1).sum()
    y.backward(retain_graph=True)
    del y


def _forward_only() -> None:
    x = _leaf()
    _ = cr.stack([x.sigmoid(), x.pad(((0, 0), (1, 1)))[:, 1:3]]).var(0)


def _hooks_and_retain_grad() -> None:
    x = _leaf()
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: g * 2)
    x.register_hook(lambda g: None)
    (h * h).sum().backward()


def _create_graph_then_clear() -> None:
    x = _leaf()
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    x.grad = None  # x.grad's graph leads back to x: clear it, as one does in PyTorch
    g.sum().backward()
    x.grad = None


def _transforms() -> None:
    x = _leaf()
    cr.grad(lambda t: (t.sin() * t).sum())(x)
    cr.grad(lambda t: cr.grad(lambda u: (u.exp() * u).sum())(t).sum())(x)
    cr.hessian(lambda t: (t**3).sum())(x)
    cr.jacrev(lambda t: t.exp() @ t)(x)
    cr.gradgradcheck(lambda t: (t * t).logsumexp(), (x,))


def _forward_mode() -> None:
    x = cr.tensor([[0.5, -1.0], [2.0, 0.25]])
    cr.jvp(lambda t: t.tanh().sum(0), (x,), (cr.ones(2, 2),))
    cr.jacfwd(lambda t: t.exp() @ t)(x)


def _forward_mode_on_inputs_that_require_grad() -> None:
    x = _leaf()
    cr.jvp(lambda t: t.tanh(), (x,), (cr.ones(2, 2),))


SCENARIOS = [_backward, _retain_then_drop, _forward_only, _hooks_and_retain_grad,
             _create_graph_then_clear, _transforms, _forward_mode,
             _forward_mode_on_inputs_that_require_grad]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.strip("_"))
def test_no_reference_cycles(scenario: Callable[[], None]) -> None:
    garbage = cyclic_garbage(scenario)
    assert garbage == [], sorted({type(o).__name__ for o in garbage})


def test_jvp_output_is_freed_by_refcounting() -> None:
    with refcounting_only():
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        out, tangent = cr.jvp(lambda a: a.tanh(), (x,), (cr.ones(2),))
        ref = weakref.ref(out)
        del out, tangent
        assert ref() is None


def test_cycle_check_can_fail() -> None:
    """The check above does see a cycle: a create_graph gradient left on its leaf refers
    back to the leaf through its own graph (PyTorch has the same caveat)."""

    def keep_grad_graph() -> None:
        x = _leaf()
        (x**3).sum().backward(create_graph=True)

    garbage = cyclic_garbage(keep_grad_graph)
    assert any(isinstance(o, cr.Tensor) for o in garbage)


# ---------------------------------------------------------------- flat memory in training
def _train(steps: int, leak: list[object] | None = None) -> tuple[list[int], list[int], float]:
    """Manual SGD on a two-layer MLP, written as a training loop is: the previous
    step's loss (and with it its whole graph, which survives backward()) stays alive
    until the next forward replaces it. Per window of 100 steps: the traced peak and
    the memory still held at the window's end. Returns those and the final loss."""
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((32, 4)))
    y = cr.tensor(np.sin(x.data.sum(1, keepdims=True)))
    w1 = cr.tensor(rng.standard_normal((4, 16)) * 0.5, requires_grad=True)
    b1 = cr.zeros(16, requires_grad=True)
    w2 = cr.tensor(rng.standard_normal((16, 1)) * 0.5, requires_grad=True)
    b2 = cr.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]
    peaks: list[int] = []
    held: list[int] = []
    loss_value = float("nan")
    with refcounting_only():
        # CPython keeps up to 2,000 freed one-element tuples for reuse, and tracemalloc
        # still counts their memory: a free list filling up, 48 bytes a step over the
        # first 2,000 steps, would look like growth. Fill it (after the gc.collect()
        # above, which empties it) before measuring.
        spare = [(i,) for i in range(4000)]
        del spare
        tracemalloc.start()
        try:
            for step in range(steps):
                if step % 100 == 0:
                    tracemalloc.reset_peak()
                loss = (((x @ w1 + b1).tanh() @ w2 + b2 - y) ** 2).mean()
                loss.backward()
                with cr.no_grad():
                    for p in params:
                        p -= 0.1 * p.grad
                        if leak is not None:
                            leak.append(p.grad)
                        p.grad = None
                loss_value = loss.item()
                if step % 100 == 99:
                    current, peak = tracemalloc.get_traced_memory()
                    peaks.append(peak)
                    held.append(current)
        finally:
            tracemalloc.stop()
    return peaks, held, loss_value


def _grows(held: list[int], limit: int = 64 * 1024) -> bool:
    return held[-1] - held[0] > limit


def test_training_memory_stays_flat() -> None:
    peaks, held, final_loss = _train(1000)
    assert final_loss < 0.1  # it trains
    assert peaks[-1] <= peaks[0] * 1.05 + 16 * 1024, peaks
    assert not _grows(held), held


def test_memory_check_can_fail() -> None:
    """Keeping every step's gradients is caught by the same measurement."""
    leak: list[object] = []
    _, held, _ = _train(400, leak)
    assert _grows(held), held
