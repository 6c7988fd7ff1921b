"""The forward-vs-reverse demonstration still runs and still counts what it claims."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "forward_vs_reverse.py"


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    if not SCRIPT.exists():
        pytest.skip("examples/ is not next to tests/")
    spec = importlib.util.spec_from_file_location("forward_vs_reverse", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _counts(ways: dict) -> dict[str, tuple[int, int, int]]:
    return {name: (sw.forward, sw.reverse, sw.vectors) for name, (sw, _) in ways.items()}


def test_sweep_counts_for_many_inputs_one_output(demo: ModuleType) -> None:
    n = 6
    ways = demo.run_all_ways(demo.many_to_one, np.linspace(-1, 1, n), time_them=False)
    assert _counts(ways) == {
        "jvp per column": (n, 0, n),  # one forward sweep per input
        "vjp per row": (0, 1, 1),  # one reverse sweep for the one output
        "jacfwd": (1, 0, n),  # one sweep carrying n tangents
        "jacrev": (0, 1, 1),
    }


def test_sweep_counts_for_one_input_many_outputs(demo: ModuleType) -> None:
    n = 6
    ways = demo.run_all_ways(demo.one_to_many(n), np.array([0.7]), time_them=False)
    assert _counts(ways) == {
        "jvp per column": (1, 0, 1),
        "vjp per row": (0, n, n),
        "jacfwd": (1, 0, 1),
        "jacrev": (0, 1, n),  # one sweep carrying n cotangents
    }


def test_path_factoring_part_runs(demo: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    demo.part_two(depth=4)  # asserts internally that all four numbers agree
    out = capsys.readouterr().out
    assert "dZ/dX = 72.858482183228" in out
    assert out.count("72.858482183228") == 4
