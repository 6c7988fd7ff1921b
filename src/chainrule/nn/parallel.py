"""``DistributedDataParallel``: one model per process, gradients averaged between them.

Each process (rank) runs the same model on its own share of every batch.
When the wrapper is made, rank 0's parameters and buffers are copied to
every rank, so all start equal; after each ``backward()`` every parameter's
``.grad`` is the mean of the ranks' gradients, so the optimizer steps keep
them equal. The design follows PyTorch's DDP:

- **buckets**: gradients are packed into a few flat buffers (about
  ``bucket_cap_mb`` each, parameters in reverse order, roughly the order
  backward finishes them) and each buffer is summed over the ranks in one
  MPI all-reduce, not one message per parameter;
- **overlap**: a bucket's all-reduce starts (non-blocking) as soon as its
  last gradient is accumulated (``register_post_accumulate_grad_hook``),
  and the wrapper waits for all of them before ``backward()`` returns. The
  engine now hands the leaves their gradients at the end of its sweep, so
  the buckets overlap each other; an engine that hands each one over as
  soon as it is complete lets them overlap the rest of the backward pass;
- **one agreed order**: buckets start strictly in index order on every rank,
  so the collectives always match up;
- **missing gradients count as zero**: a parameter the forward did not use
  on this rank (found by walking the graph from the outputs) contributes
  zeros, so no rank waits for a gradient that never comes; one that no rank
  used keeps ``.grad`` as it was (``None`` after ``zero_grad()``), as in a
  single process.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule.distributed.group import World, broadcast_arrays, world
from chainrule.engine import Tensor, is_grad_enabled
from chainrule.nn.module import Module, Parameter

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """Gradients of a few parameters of one dtype, flat, then one 'had a gradient' flag each."""

    def __init__(self, params: list[Parameter]) -> None:
        self.params = params
        sizes = [p.data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self.numel = self.offsets[-1]
        self.buffer: NDArray[Any] = np.zeros(self.numel + len(params), dtype=params[0].dtype)
        self.pending = 0  # expected gradients not yet accumulated in this step
        self.request: Any = None

    def pack(self) -> None:
        buf, n = self.buffer, self.numel
        for i, p in enumerate(self.params):
            lo, hi = self.offsets[i], self.offsets[i + 1]
            if p.data.dtype != buf.dtype or p.data.size != hi - lo:
                raise RuntimeError(
                    f"DistributedDataParallel: a parameter changed from {buf.dtype} "
                    f"{hi - lo} elements to {p.data.dtype} {p.data.size} after it was wrapped; "
                    "convert the model (.double(), .to()) before wrapping it"
                )
            if p.grad is None:
                buf[lo:hi] = 0
                buf[n + i] = 0
            else:
                buf[lo:hi] = p.grad.data.ravel()
                buf[n + i] = 1

    def unpack(self, size: int) -> None:
        """Each parameter's ``.grad`` becomes the sum over the ranks divided by their number."""
        buf, n = self.buffer, self.numel
        for i, p in enumerate(self.params):
            if buf[n + i] == 0:  # no rank had a gradient for it
                continue
            total = buf[self.offsets[i] : self.offsets[i + 1]].reshape(p.data.shape)
            g = p.grad
            if g is not None and g.is_leaf and g.data.flags.writeable and g.shape == p.shape:
                np.divide(total, size, out=g.data)
            else:
                p.grad = Tensor(total / size)


class DistributedDataParallel(Module):
    """Wrap ``module`` so that, after ``backward()``, its gradients are the mean over ranks.

    Parameters
    ----------
    module : the model; every rank must build the same architecture (checked).
    bucket_cap_mb : about how many megabytes of gradients go into one all-reduce.
    broadcast_buffers : copy rank 0's buffers (BatchNorm's running statistics)
        to every rank at the start of each training forward, as PyTorch does.

    Calling the wrapper runs ``module``; ``state_dict()`` keys carry the prefix
    ``module.`` (save ``ddp.module.state_dict()`` for the bare model's keys).
    Needs :func:`chainrule.distributed.init_process_group` first; in a world
    of 1 it only passes calls through.

    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> net = cr.nn.Linear(3, 1)
    >>> model = cr.nn.parallel.DistributedDataParallel(net)
    >>> model(cr.ones(4, 3)).sum().backward()   # net.weight.grad: the mean over ranks
    """

    def __init__(
        self, module: Module, bucket_cap_mb: float = 25.0, broadcast_buffers: bool = True
    ) -> None:
        super().__init__()
        if not isinstance(module, Module) or isinstance(module, DistributedDataParallel):
            raise TypeError(
                f"DistributedDataParallel: expected a Module to wrap (once), "
                f"got {type(module).__name__}"
            )
        if not (isinstance(bucket_cap_mb, (int, float)) and bucket_cap_mb > 0):
            raise ValueError(
                f"DistributedDataParallel: bucket_cap_mb must be a positive number of "
                f"megabytes, got {bucket_cap_mb!r}"
            )
        w = world("DistributedDataParallel")
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.bucket_cap_mb = float(bucket_cap_mb)
        self._world: World = w
        self._sync = True
        self._buckets: list[_Bucket] = []
        self._where: dict[int, tuple[int, Parameter]] = {}  # id(param) -> bucket, param
        self._state = "idle"  # "armed" after a forward that will reduce, "reduced" after it
        self._next = 0  # the next bucket to start
        self._expected: set[int] = set()
        self._seen: set[int] = set()
        if w.size == 1:
            return
        _check_same_model(w, module)
        broadcast_arrays([t.data for t in _state_tensors(module)])
        self._make_buckets(int(self.bucket_cap_mb * 2**20))
        ref = weakref.ref(self)

        def ready(p: Tensor) -> None:
            ddp = ref()
            if ddp is not None:
                ddp._grad_ready(p)

        for bucket in self._buckets:
            for p in bucket.params:
                p.register_post_accumulate_grad_hook(ready)

    def _make_buckets(self, cap: int) -> None:
        params = [p for p in self.module.parameters() if p.requires_grad]
        current: list[Parameter] = []
        nbytes = 0
        for p in reversed(params):  # backward finishes the last layers first
            if current and (p.dtype != current[0].dtype or nbytes + p.data.nbytes > cap):
                self._buckets.append(_Bucket(current))
                current, nbytes = [], 0
            current.append(p)
            nbytes += p.data.nbytes
        if current:
            self._buckets.append(_Bucket(current))
        for k, bucket in enumerate(self._buckets):
            for p in bucket.params:
                self._where[id(p)] = (k, p)

    # ---------------------------------------------------------------- forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        self._check_last_step()
        armed = bool(self._buckets) and self._sync and is_grad_enabled()
        if armed and self.broadcast_buffers:
            buffers = [b.data for b in self.module.buffers()]
            if buffers:
                broadcast_arrays(buffers)
        out = self.module(*args, **kwargs)
        self._state = "idle"
        outputs = [t for t in _tensors(out) if t.requires_grad]
        if armed and outputs:
            self._arm(outputs)
        return out

    def _arm(self, outputs: list[Tensor]) -> None:
        used = _leaves_reached(outputs)
        self._expected = {i for i in self._where if i in used}
        self._seen = set()
        for bucket in self._buckets:
            bucket.pending = sum(id(p) in self._expected for p in bucket.params)
            bucket.request = None
        self._next = 0
        self._state = "armed"
        for t in outputs:  # the first gradient to arrive starts buckets with none to wait for
            if not t.is_leaf:
                t.register_hook(self._backward_started)

    def _backward_started(self, grad: Tensor) -> None:
        if self._state == "armed":
            self._start_ready_buckets()

    def _check_last_step(self) -> None:
        if self._state == "armed" and (self._next or self._seen):
            missing = [
                name
                for name, p in self.module.named_parameters()
                if id(p) in self._expected and id(p) not in self._seen
            ]
            raise RuntimeError(
                "DistributedDataParallel: the last backward() ended before every parameter "
                f"the forward used had its gradient ({', '.join(missing)}), so the gradients "
                "were not averaged; compute the loss from every output of the model, or wrap "
                "that step in no_sync()"
            )

    # ---------------------------------------------------------------- backward
    def _grad_ready(self, p: Tensor) -> None:
        if self._state == "idle":  # no_sync(), no_grad(), or the inner module called directly
            return
        k, param = self._where[id(p)]
        if self._state == "reduced" or id(p) in self._seen or k < self._next:
            name = next((n for n, q in self.module.named_parameters() if q is param), "?")
            raise RuntimeError(
                f"DistributedDataParallel: parameter {name!r} received a gradient after this "
                "step's gradients were averaged (a second backward() through one forward, or "
                "a gradient that did not come through the model's forward); call the model "
                "once per backward(), and use no_sync() for all but the last when accumulating"
            )
        self._seen.add(id(p))
        if id(p) in self._expected:
            self._buckets[k].pending -= 1
            if self._buckets[k].pending == 0:
                self._start_ready_buckets()

    def _start_ready_buckets(self) -> None:
        w, buckets = self._world, self._buckets
        while self._next < len(buckets) and buckets[self._next].pending == 0:
            bucket = buckets[self._next]
            bucket.pack()
            bucket.request = w.comm.Iallreduce(w.mpi.IN_PLACE, bucket.buffer, op=w.mpi.SUM)
            self._next += 1
        if self._next == len(buckets):
            w.mpi.Request.Waitall([b.request for b in buckets])
            for bucket in buckets:
                bucket.unpack(w.size)
                bucket.request = None
            self._state = "reduced"

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside, forwards and backwards only accumulate gradients locally.

        The first backward after the block averages the total, so several
        micro-batches cost one all-reduce (gradient accumulation).
        """
        previous, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = previous

    def extra_repr(self) -> str:
        w = self._world
        return f"rank {w.rank} of {w.size}, {len(self._buckets)} gradient bucket(s)"


# ---------------------------------------------------------------- helpers
def _tensors(out: Any) -> Iterator[Tensor]:
    """The Tensors in a forward's output (a Tensor, or tuples, lists, dicts of them)."""
    if isinstance(out, Tensor):
        yield out
    elif isinstance(out, (tuple, list)):
        for item in out:
            yield from _tensors(item)
    elif isinstance(out, dict):
        for item in out.values():
            yield from _tensors(item)


def _leaves_reached(outputs: list[Tensor]) -> set[int]:
    """The ids of the leaves the outputs were computed from (the parameters this forward used).

    It walks the same op-input links that ``cr.viz`` draws.
    """
    leaves: set[int] = set()
    seen: set[int] = set()
    todo = list(outputs)
    while todo:
        t = todo.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t.is_leaf:
            leaves.add(id(t))
            continue
        for parent in t._parents or ():
            if isinstance(parent, Tensor) and parent.requires_grad:
                todo.append(parent)
    return leaves


def _state_tensors(module: Module) -> list[Tensor]:
    return [*module.parameters(), *module.buffers()]


def _check_same_model(w: World, module: Module) -> None:
    """Every rank must hold the same parameter and buffer names, shapes and dtypes."""
    mine = [
        (name, tuple(t.shape), str(t.dtype))
        for name, t in [*module.named_parameters(), *module.named_buffers()]
    ]
    everyone = w.comm.allgather(mine)
    for rank, theirs in enumerate(everyone):
        if theirs == everyone[0]:
            continue
        pairs = zip(everyone[0], theirs, strict=False)
        first = next(
            (f"{a} on rank 0 but {b} on rank {rank}" for a, b in pairs if a != b),
            f"{len(everyone[0])} entries on rank 0 but {len(theirs)} on rank {rank}",
        )
        raise ValueError(
            "DistributedDataParallel: the ranks built different models (name, shape, dtype): "
            f"{first}; every rank must build the same model"
        )
