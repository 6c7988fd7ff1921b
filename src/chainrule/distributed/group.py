"""The process group: which process this is among its peers, and the collectives.

The processes are started by an MPI launcher (``mpiexec -n N ...``), and
:func:`init_process_group` reads the launcher's environment. Without one the
world is a single process and nothing of MPI is imported, so code written for
many processes runs unchanged, and without mpi4py installed, on one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

# what MPI launchers put in each process's environment: MPICH's Hydra, Intel MPI,
# MVAPICH and Slurm's PMI (PMI_*), Open MPI (OMPI_*), any PMIx launcher (PMIX_RANK)
_RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK")
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
INSTALL_HINT = "pip install 'chainrule[dist]' (mpi4py and MPICH)"


@dataclass(frozen=True)
class World:
    """This process's place: ``rank`` of ``size``; ``comm`` is None for a world of 1."""

    rank: int
    size: int
    comm: Any = None  # an mpi4py communicator of its own (a duplicate of COMM_WORLD)
    mpi: Any = None  # the mpi4py.MPI module


_world: World | None = None
_previous_excepthook: Any = None


def launcher_variable() -> str | None:
    """The environment variable that shows an MPI launcher started this process, or None."""
    return next((name for name in _RANK_VARS if name in os.environ), None)


def _launched_size() -> int | None:
    for name in _SIZE_VARS:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return None


def init_process_group(backend: str | None = None) -> None:
    """Join the processes started together by ``mpiexec``; a world of 1 without a launcher.

    Under a launcher this imports mpi4py (``pip install 'chainrule[dist]'``)
    and installs a ``sys.excepthook`` that, after printing the traceback,
    ends every process of the job: an error on one rank never leaves the
    others waiting forever. Calling it again does nothing.

    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> cr.distributed.get_rank(), cr.distributed.get_world_size()  # without mpiexec
    (0, 1)
    """
    global _world
    if backend not in (None, "mpi"):
        raise ValueError(
            f"init_process_group: chainrule's processes talk over MPI, so backend must be "
            f"'mpi' or left out, got {backend!r}"
        )
    if _world is not None:
        return
    variable = launcher_variable()
    if variable is None:
        _world = World(rank=0, size=1)
        return
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(
            f"init_process_group: an MPI launcher started this process ({variable} is set), "
            f"but mpi4py is not installed; {INSTALL_HINT}"
        ) from exc
    comm = MPI.COMM_WORLD.Dup()  # our messages never mix with the program's own
    expected = _launched_size()
    if expected is not None and expected != comm.Get_size():
        raise RuntimeError(
            f"init_process_group: the launcher started {expected} processes but MPI sees a "
            f"world of {comm.Get_size()}: this mpiexec belongs to another MPI than the one "
            "mpi4py loaded; run the mpiexec installed beside this Python (the mpich "
            "package puts one in the same bin/ directory)"
        )
    _world = World(comm.Get_rank(), comm.Get_size(), comm, MPI)
    if _world.size > 1:
        _install_excepthook()
        node = comm.Split_type(MPI.COMM_TYPE_SHARED)  # the ranks on this machine
        _share_cores(node.Get_size())
        node.Free()


def _share_cores(ranks_here: int) -> None:
    """Give each of the ``ranks_here`` processes on this machine its share of the cores for BLAS.

    Otherwise every process starts one BLAS thread per core, and N processes
    on N cores fight over them (training ran 30 times slower that way). Like
    ``torchrun``, this leaves alone a thread count the user chose, and it
    needs threadpoolctl (part of ``chainrule[dist]``).
    """
    if any(v in os.environ for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")):
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threadpool_limits(limits=max(1, (cores or 1) // ranks_here), user_api="blas")


def destroy_process_group() -> None:
    """Leave the process group (a later :func:`init_process_group` joins again)."""
    global _world, _previous_excepthook
    if _previous_excepthook is not None and sys.excepthook is _abort_on_uncaught:
        sys.excepthook = _previous_excepthook
    _previous_excepthook = None
    _world = None


def is_initialized() -> bool:
    """Whether :func:`init_process_group` has run in this process."""
    return _world is not None


def world(where: str) -> World:
    """The process group, or a clear error naming ``where`` when there is none yet."""
    if _world is None:
        raise RuntimeError(
            f"{where}: the process group is not initialized; call "
            "cr.distributed.init_process_group() first (it is a world of 1 without mpiexec)"
        )
    return _world


def get_rank() -> int:
    """This process's number, 0 to ``get_world_size() - 1``; rank 0 logs and saves."""
    return world("get_rank").rank


def get_world_size() -> int:
    """How many processes take part."""
    return world("get_world_size").size


# ---------------------------------------------------------------- collectives
def _buffer(x: Any, where: str) -> NDArray[Any]:
    """The array a collective works on in place: a Tensor's ``.data`` or the array itself."""
    from chainrule.engine import Tensor

    array = x.data if isinstance(x, Tensor) else x
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"{where}: expected a Tensor or a NumPy array to change in place, got "
            f"{type(x).__name__}; wrap numbers in an array, e.g. np.array([loss, correct])"
        )
    if not array.flags.writeable:
        raise ValueError(f"{where}: works in place, but this {array.shape} array is read-only")
    if array.dtype.kind not in "iufc":
        raise TypeError(
            f"{where}: MPI adds up numbers; got an array of dtype {array.dtype}, "
            "convert it to integers or floats"
        )
    return array


def all_reduce(tensor: Any, op: str = "sum") -> None:
    """Replace ``tensor`` (a Tensor or array), on every rank, by its sum or mean over the ranks.

    Every rank must call it, in the same order, with the same shape and dtype.

    >>> import numpy as np, chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> totals = np.array([3.0, 1.0])
    >>> cr.distributed.all_reduce(totals, op="mean")  # with N ranks: the mean of N arrays
    """
    if op not in ("sum", "mean"):
        raise ValueError(f"all_reduce: op must be 'sum' or 'mean', got {op!r}")
    array = _buffer(tensor, "all_reduce")
    if op == "mean" and array.dtype.kind not in "fc":
        raise TypeError(
            f"all_reduce: a mean of {array.dtype} values is not {array.dtype}; use a float "
            "array, or op='sum' and divide"
        )
    w = world("all_reduce")
    if w.size == 1:
        return
    buf = array if array.flags.c_contiguous else np.ascontiguousarray(array)
    w.comm.Allreduce(w.mpi.IN_PLACE, buf, op=w.mpi.SUM)
    if op == "mean":
        buf /= w.size
    if buf is not array:
        array[...] = buf


def broadcast(tensor: Any, src: int = 0) -> None:
    """Copy rank ``src``'s values of ``tensor`` (a Tensor or array) into every rank's, in place."""
    array = _buffer(tensor, "broadcast")
    w = world("broadcast")
    if isinstance(src, bool) or not isinstance(src, (int, np.integer)) or not 0 <= src < w.size:
        raise ValueError(f"broadcast: src must be a rank from 0 to {w.size - 1}, got {src!r}")
    if w.size == 1:
        return
    buf = array if array.flags.c_contiguous else np.ascontiguousarray(array)
    w.comm.Bcast(buf, root=int(src))
    if buf is not array:
        array[...] = buf


def broadcast_arrays(arrays: Sequence[NDArray[Any]], src: int = 0) -> None:
    """Broadcast many arrays in one message per dtype (parameters, buffers), in place."""
    w = world("broadcast")
    if w.size == 1:
        return
    by_dtype: dict[np.dtype[Any], list[NDArray[Any]]] = {}
    for a in arrays:
        by_dtype.setdefault(a.dtype, []).append(a)
    for group in by_dtype.values():
        flat = np.concatenate([a.ravel() for a in group])
        w.comm.Bcast(flat, root=src)
        start = 0
        for a in group:
            a[...] = flat[start : start + a.size].reshape(a.shape)
            start += a.size


def barrier() -> None:
    """Wait until every rank has reached this call."""
    w = world("barrier")
    if w.size > 1:
        w.comm.Barrier()


# ---------------------------------------------------------------- faults
def abort(code: int = 1) -> NoReturn:
    """End this process and, under a launcher, every other process of the job.

    For a rank that must stop while its peers may be waiting on it (a plain
    ``sys.exit`` on one rank would leave them waiting forever).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    w = _world
    if w is not None and w.mpi is not None and w.size > 1:
        w.mpi.COMM_WORLD.Abort(code)
    raise SystemExit(code)


def _install_excepthook() -> None:
    global _previous_excepthook
    if sys.excepthook is not _abort_on_uncaught:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught


def _abort_on_uncaught(
    kind: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    """Show the error, then end every process of the job (peers may be waiting on this one)."""
    w = _world
    try:
        if w is not None:
            print(
                f"chainrule.distributed: rank {w.rank} of {w.size} stopped on an unhandled "
                f"{kind.__name__}; ending the whole job",
                file=sys.stderr,
            )
        (_previous_excepthook or sys.__excepthook__)(kind, exc, tb)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        if w is not None and w.mpi is not None:
            w.mpi.COMM_WORLD.Abort(1)
