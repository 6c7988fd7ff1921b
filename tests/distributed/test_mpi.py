"""Two processes under ``mpiexec -n 2``: the same numbers as one process, and no hangs.

The checks themselves live in ``mpi_checks.py`` and run in one launch; each
test here asserts that one of them passed. Without mpi4py or mpiexec these
tests skip, except with CI=true, where they fail.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from .launch import HERE, Finished, require_mpi, run_mpi

# the checks' names, read without importing the script (which needs mpi4py and a launcher)
CHECKS = re.findall(r"^@check\ndef (\w+)", (HERE / "mpi_checks.py").read_text(), re.MULTILINE)


@pytest.fixture(scope="module")
def checks_run() -> Finished:
    require_mpi()
    return run_mpi([sys.executable, str(HERE / "mpi_checks.py")])


@pytest.mark.parametrize("name", list(CHECKS))
def test_two_ranks(name: str, checks_run: Finished) -> None:
    passed = re.findall(r"^ok (\w+)$", checks_run.output, flags=re.MULTILINE)
    assert name in passed, f"check {name!r} did not pass; the job said:\n{checks_run.output}"


FAILING_RANK = """
import time
import chainrule as cr
cr.distributed.init_process_group()
if cr.distributed.get_rank() == 1:
    time.sleep(0.2)
    {action}
cr.distributed.barrier()  # rank 0 waits here for a peer that will never come
print("rank", cr.distributed.get_rank(), "got past the barrier")
"""


def test_an_exception_on_one_rank_ends_the_whole_job(tmp_path: Path) -> None:
    script = tmp_path / "fails.py"
    script.write_text(
        FAILING_RANK.format(action="raise ValueError('rank one could not read shard 7')")
    )
    run = run_mpi([sys.executable, str(script)], timeout=60)
    assert run.returncode != 0
    assert run.seconds < 30, run.seconds
    assert "ValueError: rank one could not read shard 7" in run.output
    assert "rank 1 of 2 stopped on an unhandled ValueError" in run.output
    assert "got past the barrier" not in run.output


def test_a_rank_killed_by_a_signal_ends_the_whole_job(tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(
        FAILING_RANK.format(action="import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    )
    run = run_mpi([sys.executable, str(script)], timeout=60)
    assert run.returncode != 0
    assert run.seconds < 30, run.seconds
    assert "got past the barrier" not in run.output


def test_chainrule_train_on_two_processes(tmp_path: Path) -> None:
    """The digits MLP with its defaults: the same accuracy as one process, reported once."""
    out = tmp_path / "run"
    code = "from chainrule.cli import main; raise SystemExit(main())"
    run = run_mpi(
        [sys.executable, "-c", code, "train", "--out", str(out), "--no-progress"], timeout=300
    )
    assert run.returncode == 0, run.output
    finals = re.findall(r"^test accuracy ([\d.]+)%", run.output, flags=re.MULTILINE)
    assert len(finals) == 1, run.output  # rank 0 alone prints
    assert float(finals[0]) >= 97.0, run.output
    assert "(2 processes)" in run.output
    assert len(re.findall(r"^epoch  30/30", run.output, flags=re.MULTILINE)) == 1
    config = json.loads((out / "config.json").read_text())
    assert config["test_accuracy"] == pytest.approx(float(finals[0]) / 100, abs=1e-4)
    assert (out / "model.npz").stat().st_size > 0


def test_an_uneven_batch_split_is_refused_once(tmp_path: Path) -> None:
    code = "from chainrule.cli import main; raise SystemExit(main())"
    args = [sys.executable, "-c", code, "train", "--batch-size", "33", "--out", str(tmp_path)]
    run = run_mpi(args, timeout=60)
    assert run.returncode != 0
    assert run.output.count("batch_size 33 does not split into equal shares") == 1, run.output


def test_names_training_refuses_several_processes_once(tmp_path: Path) -> None:
    code = "from chainrule.cli import main; raise SystemExit(main())"
    args = [sys.executable, "-c", code, "train", "--data", "names", "--out", str(tmp_path)]
    run = run_mpi(args, timeout=60)
    assert run.returncode == 2, run.output
    assert run.output.count("--data names trains in one process") == 1, run.output
    assert not (tmp_path / "model.npz").exists()


def test_the_processes_on_one_machine_share_its_cores(tmp_path: Path) -> None:
    """Without thread variables set, each of 2 ranks gets half the cores for BLAS."""
    pytest.importorskip("threadpoolctl")
    script = tmp_path / "threads.py"
    script.write_text(
        "import chainrule as cr\n"
        "from threadpoolctl import threadpool_info\n"
        "cr.distributed.init_process_group()\n"
        "blas = [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']\n"
        "import sys\n"
        "sys.stdout.write(f'blas threads {cr.distributed.get_rank()} {blas}\\n')\n"
    )
    run = run_mpi([sys.executable, str(script)], one_blas_thread=False, timeout=60)
    assert run.returncode == 0, run.output
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    share = max(1, (cores or 1) // 2)
    found = re.findall(r"^blas threads (\d) \[(\d+)\]$", run.output, flags=re.MULTILINE)
    assert sorted(found) == [("0", str(share)), ("1", str(share))], run.output


def test_the_example_gives_the_same_numbers_on_one_and_two_processes(tmp_path: Path) -> None:
    """The example's global batch of 64 is 2 x 32 or 1 x 64: the same steps either way."""
    example = str(HERE.parents[1] / "examples" / "distributed_digits.py")
    epochs = {}
    for n in (1, 2):
        run = run_mpi([sys.executable, example], n=n, cwd=tmp_path, timeout=120)
        assert run.returncode == 0, run.output
        found = re.findall(r"^epoch \d+: loss ([\d.]+), train accuracy ([\d.]+)%", run.output, re.M)
        epochs[n] = np.array(found, dtype=float)
        accuracy = re.findall(rf"^{n} process\(es\), test accuracy ([\d.]+)%$", run.output, re.M)
        assert len(accuracy) == 1 and float(accuracy[0]) > 95, run.output
    assert epochs[1].shape == epochs[2].shape == (12, 2)
    # float32 sums in another order: equal to rounding (one sample is 0.07 % of the accuracy)
    np.testing.assert_allclose(epochs[2], epochs[1], rtol=2e-3, atol=1e-3)
    assert (tmp_path / "digits-ddp.npz").exists()
