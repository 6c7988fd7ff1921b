"""The tests on a real GPU: skipped, with the reason, where CuPy or a GPU is missing."""

from __future__ import annotations

import pytest

from chainrule import backend


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = "tests/gpu/"
    if backend.cuda_available():
        return
    skip = pytest.mark.skip(reason="needs an NVIDIA GPU and CuPy "
                                   "(pip install 'chainrule[cuda13]'); see docs/gpu.md")
    for item in items:
        if here in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.gpu)
            item.add_marker(skip)
