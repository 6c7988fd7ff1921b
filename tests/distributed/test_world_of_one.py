"""Without a launcher: a world of 1 that needs no MPI, and the checks on bad input."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest

import chainrule as cr
from chainrule import distributed as dist
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel as DDP


@pytest.fixture(autouse=True)
def _fresh_group(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_RANK"):
        monkeypatch.delenv(name, raising=False)
    dist.destroy_process_group()
    yield
    dist.destroy_process_group()


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PMI", "OMPI_"))}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**clean, **env}
    )


def test_import_chainrule_never_imports_mpi4py() -> None:
    code = (
        "import sys, chainrule as cr\n"
        "cr.distributed.init_process_group()\n"
        "m = cr.nn.parallel.DistributedDataParallel(cr.nn.Linear(2, 1))\n"
        "m(cr.ones(3, 2)).sum().backward()\n"
        "print('mpi4py' in sys.modules, cr.distributed.get_world_size())\n"
    )
    done = _run(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "1"]


def test_a_launcher_without_mpi4py_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['mpi4py'] = None\n"  # as if it were not installed
        "import chainrule as cr\n"
        "cr.distributed.init_process_group()\n"
    )
    done = _run(code, PMI_RANK="0", PMI_SIZE="2")
    assert done.returncode != 0
    assert "an MPI launcher started this process (PMI_RANK is set)" in done.stderr
    assert "pip install 'chainrule[dist]'" in done.stderr


def test_a_world_of_one() -> None:
    assert not dist.is_initialized()
    dist.init_process_group()
    dist.init_process_group()  # again: nothing happens
    assert dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    t = cr.tensor(np.array([1.0, 2.0]))
    dist.all_reduce(t)
    dist.all_reduce(t, op="mean")
    dist.broadcast(t, src=0)
    dist.barrier()
    np.testing.assert_array_equal(t.data, [1.0, 2.0])


def test_nothing_works_before_init() -> None:
    for call in (dist.get_rank, dist.get_world_size, dist.barrier):
        with pytest.raises(RuntimeError, match="init_process_group"):
            call()
    with pytest.raises(RuntimeError, match="DistributedDataParallel: .*init_process_group"):
        DDP(nn.Linear(2, 1))
    with pytest.raises(RuntimeError, match="DistributedSampler: .*init_process_group"):
        cr.data.DistributedSampler(range(4))


def test_bad_arguments_are_named() -> None:
    dist.init_process_group()
    with pytest.raises(ValueError, match="backend must be 'mpi'"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="op must be 'sum' or 'mean', got 'max'"):
        dist.all_reduce(np.zeros(2), op="max")
    with pytest.raises(TypeError, match="expected a Tensor or a NumPy array .* got float"):
        dist.all_reduce(1.5)
    with pytest.raises(TypeError, match="mean of int64 values"):
        dist.all_reduce(np.arange(3), op="mean")
    with pytest.raises(TypeError, match="dtype bool"):
        dist.all_reduce(np.zeros(2, dtype=bool))
    frozen = np.zeros(2)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        dist.broadcast(frozen)
    with pytest.raises(ValueError, match="src must be a rank from 0 to 0, got 1"):
        dist.broadcast(np.zeros(2), src=1)
    with pytest.raises(TypeError, match="expected a Module"):
        DDP(lambda x: x)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bucket_cap_mb must be a positive"):
        DDP(nn.Linear(2, 1), bucket_cap_mb=0)


def test_ddp_in_a_world_of_one_is_the_module() -> None:
    dist.init_process_group()
    cr.manual_seed(0)
    f64 = np.float64
    net = nn.Sequential(nn.Linear(3, 4, dtype=f64), nn.Tanh(), nn.Linear(4, 1, dtype=f64))
    model = DDP(net)
    assert list(model.state_dict()) == ["module." + k for k in net.state_dict()]
    x = cr.tensor(np.random.default_rng(0).normal(size=(5, 3)))
    model(x).sum().backward()
    got = [p.grad.data.copy() for p in net.parameters()]
    net.zero_grad()
    net(x).sum().backward()
    for a, p in zip(got, net.parameters(), strict=True):
        np.testing.assert_array_equal(a, p.grad.data)
    with model.no_sync():
        model(x)
    assert "rank 0 of 1" in repr(model)


def test_the_mpi_tests_skip_without_mpi_but_fail_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from . import launch

    monkeypatch.setattr(launch.importlib.util, "find_spec", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    skipped = r"needs mpi4py: pip install 'chainrule\[dist\]'"
    with pytest.raises(pytest.skip.Exception, match=skipped):
        launch.require_mpi()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: MPI tests must run"):
        launch.require_mpi()
