"""Run Python under ``mpiexec`` from the tests; skip (or, with CI=true, fail) without MPI."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def find_mpiexec() -> str | None:
    """The mpiexec installed beside this Python (the mpich package's), else one on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "mpiexec"
    if beside.exists():
        return str(beside)
    return shutil.which("mpiexec")


def require_mpi() -> str:
    """The mpiexec to use; skips the test when MPI is missing, fails instead under CI=true."""
    missing = []
    if importlib.util.find_spec("mpi4py") is None:
        missing.append("mpi4py")
    mpiexec = find_mpiexec()
    if mpiexec is None:
        missing.append("an mpiexec")
    if missing or mpiexec is None:
        message = f"needs {' and '.join(missing)}: pip install 'chainrule[dist]'"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: MPI tests must run)")
        pytest.skip(message)
    return mpiexec


@dataclass
class Finished:
    returncode: int
    output: str
    seconds: float


def run_mpi(
    args: list[str],
    n: int = 2,
    timeout: float = 120.0,
    one_blas_thread: bool = True,
    cwd: Path | None = None,
) -> Finished:
    """``mpiexec -n N args...``, stdout and stderr together; the whole job is killed on timeout.

    ``one_blas_thread`` sets the usual thread variables to 1 for the job (the
    tests share the machine's cores with each other).
    """
    mpiexec = require_mpi()
    extra = []
    version = subprocess.run(
        [mpiexec, "--version"], capture_output=True, text=True, stdin=subprocess.DEVNULL
    ).stdout
    if "Open MPI" in version or "OpenRTE" in version:
        extra = ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    threads = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    launcher = ("PMI_", "PMIX_", "OMPI_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(launcher) and k not in threads}
    env["PYTHONUNBUFFERED"] = "1"
    if one_blas_thread:
        env.update(dict.fromkeys(threads, "1"))
    start = time.perf_counter()
    proc = subprocess.Popen(
        [mpiexec, *extra, "-n", str(n), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,  # its own process group, so a hung job can be killed whole
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"mpiexec did not finish within {timeout} s; output:\n{output}")
    return Finished(proc.returncode, output, time.perf_counter() - start)


def python() -> str:
    return sys.executable
