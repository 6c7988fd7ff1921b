"""Grad mode and forward-mode state belong to a thread: inference under no_grad()
in one thread leaves another thread's training alone, jvp runs in several
threads at once, and backward passes on independent graphs run concurrently."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import chainrule as cr

ROUNDS = 100


@pytest.fixture(autouse=True)
def often_switching() -> Iterator[None]:
    """Switch threads every few bytecodes, so that interleavings actually happen."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _run(*targets: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 - reported to the main thread
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


@pytest.mark.parametrize("attempt", range(ROUNDS))
def test_no_grad_in_one_thread_leaves_another_thread_recording(attempt: int) -> None:
    w = cr.tensor(np.array([1.0, -2.0]), requires_grad=True)
    recorded: list[bool] = []
    inference_done = threading.Event()

    def inference() -> None:
        with cr.no_grad():
            for _ in range(50):
                assert not (w * 2).requires_grad
        inference_done.set()

    def training() -> None:
        for _ in range(50):
            recorded.append((w * 2).requires_grad)
        inference_done.wait()
        recorded.append((w * 2).requires_grad)

    _run(inference, training)
    assert recorded == [True] * 51
    assert cr.is_grad_enabled()


@pytest.mark.parametrize("attempt", range(ROUNDS))
def test_jvp_in_four_threads(attempt: int) -> None:
    results: dict[int, np.ndarray] = {}

    def work(k: int) -> Callable[[], None]:
        def run() -> None:
            x = np.array([0.5, -1.0, 2.0]) * (k + 1)
            for _ in range(5):
                _, tangent = cr.jvp(lambda v: (v.sin() * v).sum(), (x,), (np.ones(3),))
            results[k] = tangent.data

        return run

    _run(*(work(k) for k in range(4)))
    for k in range(4):
        x = np.array([0.5, -1.0, 2.0]) * (k + 1)
        np.testing.assert_allclose(results[k], (np.cos(x) * x + np.sin(x)).sum())


def test_concurrent_backward_on_independent_graphs() -> None:
    def train(seed: int, out: list[np.ndarray]) -> Callable[[], None]:
        def run() -> None:
            rng = np.random.default_rng(seed)
            w = cr.tensor(rng.standard_normal((4, 3)), requires_grad=True)
            x = cr.tensor(rng.standard_normal((8, 4)))
            for _ in range(30):
                loss = ((x @ w).tanh() ** 2).mean()
                loss.backward()
                with cr.no_grad():
                    w -= 0.1 * w.grad
                w.grad = None
            out.append(w.data.copy())

        return run

    together: list[list[np.ndarray]] = [[] for _ in range(4)]
    _run(*(train(s, together[s]) for s in range(4)))
    for s in range(4):  # the same as each alone
        alone: list[np.ndarray] = []
        train(s, alone)()
        np.testing.assert_array_equal(together[s][0], alone[0])


def test_concurrent_backward_into_a_shared_parameter() -> None:
    """Two threads' graphs share a leaf: each pass's gradient arrives whole."""
    w = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    passes = 200

    def work() -> None:
        for _ in range(passes):
            (w * 3).sum().backward()

    _run(work, work)
    np.testing.assert_allclose(w.grad.data, [3.0 * 2 * passes] * 2)
