"""examples/microgpt.py runs, and its first loss is that of a near-uniform guess."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "microgpt.py"


def test_two_steps_print_finite_losses_near_ln_vocab() -> None:
    if not SCRIPT.exists():
        pytest.skip("examples/ is not next to tests/")
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", "2", "--samples", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    vocab = int(re.search(r"vocabulary of (\d+)", run.stdout).group(1))  # type: ignore[union-attr]
    assert vocab == 27  # a..z and the token that starts and ends a name
    losses = [float(x) for x in re.findall(r"step +\d+ / 2  loss (\S+)", run.stdout)]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
    # small random weights: the first guess is close to uniform over the vocabulary
    assert abs(losses[0] - math.log(vocab)) < 0.5
    samples = re.findall(r"sample +\d+: (.*)", run.stdout)
    assert len(samples) == 2 and all(re.fullmatch("[a-z]*", s) for s in samples)


def test_bad_steps_is_refused_with_a_message() -> None:
    if not SCRIPT.exists():
        pytest.skip("examples/ is not next to tests/")
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", "0"], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2 and "--steps must be at least 1, got 0" in run.stderr
