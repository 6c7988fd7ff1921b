"""The "cuda" device, on the CuPy test double (fakecupy) unless a real GPU is asked for."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chainrule import backend
from chainrule.engine import factories

from . import fakecupy


@pytest.fixture
def gpu() -> Iterator[None]:
    """Run "cuda" on the test double for the test's duration."""
    saved = backend._CUDA[:]
    backend.use_cuda_modules(fakecupy, fakecupy.cupyx)
    for key in [k for k in factories._RNG if k != "cpu"]:
        del factories._RNG[key]
    try:
        yield
    finally:
        backend._CUDA[:] = saved
        backend._PENDING.clear()
        for key in [k for k in factories._RNG if k != "cpu"]:
            del factories._RNG[key]
