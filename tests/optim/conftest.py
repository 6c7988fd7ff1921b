from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from chainrule import Tensor


def grad_of(x: np.ndarray) -> np.ndarray:
    """The gradient of a fixed non-quadratic test loss, sum(x**4/4 - cos(3x) + 0.5 x)."""
    return x**3 + 3 * np.sin(3 * x) + 0.5


@pytest.fixture
def run_steps() -> Callable[..., np.ndarray]:
    """Run ``steps`` updates of an optimizer made by ``make(params)`` from ``x0``."""

    def run(
        make: Callable[[list[Tensor]], object],
        x0: np.ndarray,
        steps: int = 20,
        scheduler: Callable[[object], object] | None = None,
    ) -> np.ndarray:
        p = Tensor(x0.copy(), requires_grad=True)
        opt = make([p])
        sched = scheduler(opt) if scheduler else None
        for _ in range(steps):
            opt.zero_grad()  # type: ignore[attr-defined]
            p.grad = Tensor(grad_of(p.data))
            opt.step()  # type: ignore[attr-defined]
            if sched is not None:
                sched.step()  # type: ignore[attr-defined]
        return p.data

    return run
