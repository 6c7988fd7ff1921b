"""Per-thread state of the tensor engine: grad mode and forward-mode levels.

Each thread has its own: one thread may run inference under ``no_grad()``
while another trains, and ``cr.jvp`` may run in several threads at once.

Every op asks "is recording on?", so that question must cost almost nothing.
Reading a ``threading.local`` costs several times a plain global, so a global
count of the threads that have recording switched off answers it first: while
no thread is in ``no_grad()`` (the common case while training) one integer
test decides; otherwise the current thread's own flag does. Forward-mode
levels use the same trick.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _Thread(threading.local):
    recording: bool = True  # record graphs? (per thread; the class value is the default)
    levels: list[int]  # forward-mode sweeps open in this thread, innermost last
    depth: int = 0  # transforms running in this thread (see chainrule.func)
    anomaly: int = 0  # detect_anomaly() blocks open in this thread

    def __init__(self) -> None:
        self.levels = []


local = _Thread()
_lock = threading.Lock()
# COUNTS[0]: threads with recording off; COUNTS[1]: forward-mode levels and
# detect_anomaly() blocks open in all threads (while it is 0, no op takes the slow path)
COUNTS = [0, 0]


def recording() -> bool:
    """Whether this thread records the ops it runs (see ``no_grad``)."""
    return COUNTS[0] == 0 or local.recording


def _set_recording(on: bool) -> bool:
    before = local.recording
    if before != on:
        with _lock:
            COUNTS[0] += -1 if on else 1
        local.recording = on
    return before


def is_grad_enabled() -> bool:
    """Whether operations on tensors that require grad are recorded (in this thread)."""
    return recording()


class _GradMode(contextlib.ContextDecorator):
    """Switch graph recording on or off for this thread: a context manager and a decorator."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._before: list[bool] = []

    def __enter__(self) -> None:
        self._before.append(_set_recording(self.enabled))

    def __exit__(self, *exc: object) -> None:
        _set_recording(self._before.pop())

    def __call__(self, fn: F) -> F:  # type: ignore[override]
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with _GradMode(self.enabled):  # a fresh one per call: safe across threads
                return fn(*args, **kwargs)

        return run  # type: ignore[return-value]


def _mode(enabled: bool, fn: Callable[..., Any] | None) -> Any:
    mode = _GradMode(enabled)
    return mode if fn is None else mode(fn)


def no_grad(fn: Callable[..., Any] | None = None) -> Any:
    """Stop recording: ``with cr.no_grad(): ...``, ``@cr.no_grad()`` or ``@cr.no_grad``."""
    return _mode(False, fn)


def enable_grad(fn: Callable[..., Any] | None = None) -> Any:
    """Record again inside a ``no_grad`` block; also a decorator, with or without ()."""
    return _mode(True, fn)


def set_grad_enabled(enabled: bool) -> _GradMode:
    """Recording on or off, as a context manager (``with cr.set_grad_enabled(False):``)."""
    return _GradMode(bool(enabled))


# ---------------------------------------------------------------- forward-mode levels
_level_ids = itertools.count(1)


def levels() -> list[int]:
    """The forward-mode levels open in this thread (empty when no ``jvp`` runs)."""
    return local.levels if COUNTS[1] else []


@contextlib.contextmanager
def forward_level() -> Iterator[int]:
    """Open a new forward-mode level in this thread for the duration of a ``jvp``."""
    level = next(_level_ids)
    mine = local.levels
    mine.append(level)
    with _lock:
        COUNTS[1] += 1
    try:
        yield level
    finally:
        mine.remove(level)
        with _lock:
            COUNTS[1] -= 1


# ---------------------------------------------------------------- anomaly detection
def watching() -> bool:
    """Whether this thread is inside ``detect_anomaly()``."""
    return bool(COUNTS[1]) and local.anomaly > 0


class _Anomaly(contextlib.ContextDecorator):
    def __enter__(self) -> None:
        local.anomaly += 1
        with _lock:
            COUNTS[1] += 1

    def __exit__(self, *exc: object) -> None:
        local.anomaly -= 1
        with _lock:
            COUNTS[1] -= 1


def detect_anomaly(fn: Callable[..., Any] | None = None) -> Any:
    """Check every op's output and every gradient for NaN and infinity; the first one
    raises ``cr.AnomalyError`` naming the op, its inputs and the line of your code that
    made the op. A context manager (``with cr.detect_anomaly():``) and a decorator.
    Slow: use it to find where a NaN came from."""
    return _Anomaly() if fn is None else _Anomaly()(fn)
