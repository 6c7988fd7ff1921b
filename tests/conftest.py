"""Shared test setup: seeded random generators and the hypothesis profiles.

Profiles: ``ci`` (the default) runs a modest, derandomized number of
examples so the suite is fast and reproducible; ``dev`` explores many more.
Pick one with ``HYPOTHESIS_PROFILE=dev python -m pytest``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import chainrule as cr

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=10,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=200,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _seeded() -> Iterator[None]:
    """Every test starts from the same NumPy and chainrule random state."""
    state = np.random.get_state()
    np.random.seed(0)
    cr.manual_seed(0)
    yield
    np.random.set_state(state)
