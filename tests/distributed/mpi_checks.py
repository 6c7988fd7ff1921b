"""Checks that run inside ``mpiexec -n 2 python mpi_checks.py [NAME ...]``.

Every rank runs every check in the same order (the collectives must match
up). A check that passes prints ``ok NAME`` on rank 0; one that fails raises,
and the process group's excepthook ends the whole job with its traceback.
``test_mpi.py`` launches this once and reads the lines.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
from mpi4py import MPI

import chainrule as cr
from chainrule import distributed as dist
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group()
RANK, WORLD = dist.get_rank(), dist.get_world_size()
CHECKS: dict[str, Callable[[], None]] = {}


def check(fn: Callable[[], None]) -> Callable[[], None]:
    CHECKS[fn.__name__] = fn
    return fn


def gather(value: object) -> list[object]:
    """Every rank's ``value`` (test plumbing: pickles small objects)."""
    return MPI.COMM_WORLD.allgather(value)


def mlp(seed: int) -> nn.Module:
    cr.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(6, 16, dtype=np.float64), nn.Tanh(), nn.Linear(16, 4, dtype=np.float64)
    )


def batch(n: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6)), rng.integers(0, 4, n)


def my_half(X: np.ndarray, y: np.ndarray) -> tuple[cr.Tensor, cr.Tensor]:
    """This rank's equal share of a batch (contiguous halves)."""
    k = len(y) // WORLD
    return cr.tensor(X[RANK * k : (RANK + 1) * k]), cr.tensor(y[RANK * k : (RANK + 1) * k])


def grads(model: nn.Module) -> dict[str, np.ndarray | None]:
    return {n: None if p.grad is None else p.grad.data.copy() for n, p in model.named_parameters()}


def assert_close(a: dict, b: dict, tol: float = 1e-10) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if a[k] is None or b[k] is None:
            assert a[k] is None and b[k] is None, (k, a[k], b[k])
        else:
            err = float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k]))))
            assert err <= tol, f"{k}: differs by {err:.3g} on rank {RANK}"


# ---------------------------------------------------------------- checks
@check
def collectives() -> None:
    t = cr.tensor(np.full(3, RANK + 1.0))
    dist.all_reduce(t)
    np.testing.assert_array_equal(t.data, np.full(3, sum(range(1, WORLD + 1))))
    a = np.arange(12.0).reshape(3, 4) * (RANK + 1)
    view = a[:, ::2]  # not contiguous: reduced and written back
    dist.all_reduce(view, op="mean")
    mean_factor = sum(range(1, WORLD + 1)) / WORLD
    np.testing.assert_allclose(a[:, ::2], np.arange(12.0).reshape(3, 4)[:, ::2] * mean_factor)
    np.testing.assert_array_equal(a[:, 1::2], np.arange(12.0).reshape(3, 4)[:, 1::2] * (RANK + 1))
    counts = np.array([RANK, 1], dtype=np.int64)
    dist.all_reduce(counts)
    assert counts.tolist() == [sum(range(WORLD)), WORLD]
    b = np.full(2, float(RANK))
    dist.broadcast(b, src=WORLD - 1)
    np.testing.assert_array_equal(b, np.full(2, WORLD - 1.0))
    dist.barrier()


@check
def rank0_weights_replace_the_others() -> None:
    net = mlp(seed=100 + RANK)  # a different initialisation on every rank
    before = {n: p.data.copy() for n, p in net.named_parameters()}
    rank0 = gather(before)[0]
    if RANK > 0:
        assert any(not np.array_equal(before[n], rank0[n]) for n in before)
    DDP(net)
    for n, p in net.named_parameters():
        np.testing.assert_array_equal(p.data, rank0[n])


@check
def gradients_equal_one_process_on_the_whole_batch() -> None:
    X, y = batch()
    for cap in (25.0, 1e-4):  # one bucket, then one per parameter
        net = mlp(seed=1)
        ddp = DDP(net, bucket_cap_mb=cap)
        xb, yb = my_half(X, y)
        F.cross_entropy(ddp(xb), yb).backward()
        ref = mlp(seed=1)
        F.cross_entropy(ref(cr.tensor(X)), cr.tensor(y)).backward()
        assert_close(grads(net), grads(ref))


@check
def sgd_steps_equal_one_process() -> None:
    X, y = batch(n=16, seed=3)
    net, ref = mlp(seed=2), mlp(seed=2)
    ddp = DDP(net, bucket_cap_mb=1e-3)
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    opt_ref = optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    xb, yb = my_half(X, y)
    for _ in range(5):
        opt.zero_grad()
        F.cross_entropy(ddp(xb), yb).backward()
        opt.step()
        opt_ref.zero_grad()
        F.cross_entropy(ref(cr.tensor(X)), cr.tensor(y)).backward()
        opt_ref.step()
    mine = {n: p.data for n, p in net.named_parameters()}
    assert_close(mine, {n: p.data for n, p in ref.named_parameters()})
    for other in gather(mine):  # and every rank holds exactly the same numbers
        for n in mine:
            np.testing.assert_array_equal(other[n], mine[n])


class TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        cr.manual_seed(5)
        self.a = nn.Linear(6, 4, dtype=np.float64)
        self.b = nn.Linear(6, 4, dtype=np.float64)
        self.never = nn.Linear(6, 4, dtype=np.float64)

    def forward(self, x: cr.Tensor, use_b: bool) -> cr.Tensor:
        out = self.a(x)
        return out + self.b(x) if use_b else out


@check
def a_gradient_missing_on_one_rank_counts_as_zero() -> None:
    X, y = batch()
    for cap in (25.0, 1e-5):
        net = TwoHeads()
        ddp = DDP(net, bucket_cap_mb=cap)
        xb, yb = my_half(X, y)
        F.cross_entropy(ddp(xb, use_b=RANK == 1), yb).backward()  # b unused on rank 0
        expected = {}  # one process: the mean of the ranks' losses, each with its own head
        ref = TwoHeads()
        k = len(y) // WORLD
        total = None
        for r in range(WORLD):
            part = ref(cr.tensor(X[r * k : (r + 1) * k]), use_b=r == 1)
            loss = F.cross_entropy(part, cr.tensor(y[r * k : (r + 1) * k]))
            total = loss if total is None else total + loss
        (total / WORLD).backward()
        expected = grads(ref)
        got = grads(net)
        assert got["never.weight"] is None and got["never.bias"] is None
        assert_close(got, expected)


@check
def no_sync_accumulates_then_one_reduction_averages_the_total() -> None:
    X, y = batch(n=16, seed=7)
    net, ref = mlp(seed=3), mlp(seed=3)
    ddp = DDP(net)
    xb, yb = my_half(X, y)
    half = len(yb) // 2
    with ddp.no_sync():
        F.cross_entropy(ddp(xb[:half]), yb[:half]).backward()
    local = grads(net)
    F.cross_entropy(ddp(xb[half:]), yb[half:]).backward()
    k = len(y) // WORLD
    for r in range(WORLD):  # the same micro-batches, in one process
        xs, ys = X[r * k : (r + 1) * k], y[r * k : (r + 1) * k]
        for part in (slice(None, half), slice(half, None)):
            loss = F.cross_entropy(ref(cr.tensor(xs[part])), cr.tensor(ys[part])) / WORLD
            loss.backward()
    assert_close(grads(net), grads(ref))
    assert any(not np.allclose(local[n], grads(ref)[n]) for n in local)  # no_sync did not reduce


@check
def buffers_follow_rank_0() -> None:
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5))
    net[1].running_mean.data[...] = RANK  # type: ignore[index]
    ddp = DDP(net)
    np.testing.assert_array_equal(net[1].running_mean.data, 0.0)  # type: ignore[index]
    net[1].running_var.data[...] = 1.0 + RANK  # type: ignore[index]
    X, _ = batch()
    ddp(cr.tensor(X.astype(np.float32))).sum().backward()
    # the forward started from rank 0's statistics, then took this rank's batch into them
    xb = X.astype(np.float32)
    h = net[0](cr.tensor(xb)).data  # type: ignore[index]
    expected_var = 0.9 * 1.0 + 0.1 * h.var(axis=0, ddof=1)
    np.testing.assert_allclose(net[1].running_var.data, expected_var, rtol=1e-5)  # type: ignore[index]


@check
def different_models_are_refused_on_every_rank() -> None:
    cr.manual_seed(0)
    net = nn.Linear(6, 4 + RANK)
    try:
        DDP(net)
    except ValueError as exc:
        assert "rank 0 but" in str(exc) and "same model" in str(exc), exc
    else:
        raise AssertionError("a model that differs between ranks was accepted")


@check
def a_second_backward_through_one_forward_is_refused() -> None:
    net = mlp(seed=4)
    ddp = DDP(net)
    X, y = batch()
    xb, yb = my_half(X, y)
    loss = F.cross_entropy(ddp(xb), yb)
    loss.backward(retain_graph=True)
    try:
        loss.backward()
    except RuntimeError as exc:
        assert "after this step's gradients were averaged" in str(exc), exc
    else:
        raise AssertionError("a second backward was not refused")


@check
def an_output_the_loss_ignores_is_reported_at_the_next_forward() -> None:
    class Pair(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            cr.manual_seed(0)
            self.a = nn.Linear(6, 2, dtype=np.float64)
            self.b = nn.Linear(6, 2, dtype=np.float64)

        def forward(self, x: cr.Tensor) -> tuple[cr.Tensor, cr.Tensor]:
            return self.a(x), self.b(x)

    ddp = DDP(Pair())  # one bucket: it never starts, as b's gradient never comes
    x = cr.tensor(batch()[0])
    first, _ = ddp(x)
    first.sum().backward()
    try:
        ddp(x)
    except RuntimeError as exc:
        assert "b.weight" in str(exc) and "every output" in str(exc), exc
    else:
        raise AssertionError("an unfinished reduction was not reported")


@check
def a_model_converted_after_wrapping_is_refused() -> None:
    cr.manual_seed(0)
    net = nn.Linear(6, 2)
    ddp = DDP(net)
    net.double()
    try:
        ddp(cr.tensor(batch()[0])).sum().backward()
    except RuntimeError as exc:
        assert "convert the model" in str(exc) and "before wrapping" in str(exc), exc
    else:
        raise AssertionError("a float64 gradient went into a float32 bucket")


@check
def sampler_shares_are_disjoint_equal_and_cover() -> None:
    for n, drop_last in ((10, False), (11, False), (11, True)):
        sampler = cr.data.DistributedSampler(range(n), seed=3, drop_last=drop_last)
        sampler.set_epoch(2)
        shares = [set(s) for s in gather(list(sampler))]
        lengths = {len(s) for s in gather(list(sampler))}
        assert len(lengths) == 1, lengths
        assert all(a.isdisjoint(b) for i, a in enumerate(shares) for b in shares[i + 1 :])
        covered = set().union(*shares)
        assert covered == set(range(n)) if not drop_last else len(covered) == n - n % WORLD


@check
def digits_training_ends_with_the_same_model_on_every_rank() -> None:
    from chainrule import train as tr

    lines: list[str] = []
    config = tr.TrainConfig.for_model("mlp", epochs=2, batch_size=32)
    result = tr.train(config, progress=False, log=lines.append)
    assert bool(lines) == (RANK == 0), lines  # only rank 0 reports
    state = {k: v.data for k, v in result.model.state_dict().items()}
    for other in gather(state):
        for k in state:
            np.testing.assert_array_equal(other[k], state[k])
    accs = gather(result.test_accuracy)
    assert len(set(accs)) == 1 and accs[0] > 0.8, accs


if __name__ == "__main__":
    names = sys.argv[1:] or list(CHECKS)
    for name in names:
        CHECKS[name]()
        dist.barrier()
        if RANK == 0:
            print(f"ok {name}", flush=True)
