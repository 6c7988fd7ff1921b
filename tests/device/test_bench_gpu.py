"""benchmarks/bench_gpu.py runs its chainrule columns on the device (the test double
here, at a small size), so the script is ready for a machine with a GPU."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_gpu  # noqa: E402


def test_the_gpu_benchmark_runs_its_chainrule_columns(
        gpu: None, capsys: pytest.CaptureFixture[str]) -> None:
    results = bench_gpu.run(rounds=1, gpu_steps=1, cpu_steps=1, sizes=(64, 32, 10), batch=16)
    for key in ("mlp", "cnn"):
        assert set(results[key]) >= {"chainrule cuda", "chainrule cpu"}
        assert all(t > 0 for t in results[key].values())
    bench_gpu.report(results, (64, 32, 10), 16)
    out = capsys.readouterr().out
    assert "MLP 64-32-10 step, batch 16" in out and "chainrule cpu / chainrule cuda" in out
