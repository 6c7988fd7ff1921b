"""Data-parallel scaling: samples per second on 1 and 2 processes, and what the all-reduce costs.

The script launches itself (``mpiexec -n 2`` of this file with ``--worker``)
``--rounds`` times and reports medians. Each worker trains, on random data
of the right shapes and with a fixed batch per process (2 processes take
twice the samples per step), SGD with momentum, wrapped in
DistributedDataParallel:

- the digits CNN of ``chainrule train --model cnn`` (1x8x8 images), and
- a 784-256-256-10 ReLU MLP in float32, at a batch of 256 per process (the
  all-reduce weighs) and of 1024 (each process busy).

A small virtual machine is noisy: its cores change speed with what the host
runs, and a synchronous step waits for the slower process. So every worker
measures everything it compares under the same conditions, in short blocks
of steps that take turns, repeated:

- ``alone``: rank 0 trains while rank 1 sleeps, then the other way round:
  each core's speed, and the 1-process baseline;
- ``together``: both train inside ``no_sync()`` (no all-reduce): each
  process's own step time when both cores work. A synchronous step waits
  for the slower process, so the bound on the speed-up is ``ideal`` = 2 x
  (rank 0 alone) / (the mean over steps of the slower of the two);
- ``synced``: both train normally, averaging the gradients.

Throughputs come from mean step times (a pause of the host counts, as it
does in training); the table gives the median over rounds.

It also times a bare all-reduce of the gradients' size and all-reduces of
8 B to 32 MiB, fitted to ``t = a + bytes / B``, and prints the ring
all-reduce model for 8 and 64 machines on 10 and 100 Gb/s networks.

Run single-threaded, with the machine's OpenBLAS workarounds lifted for this
command only::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        OPENBLAS_NUM_THREADS=1 python benchmarks/bench_distributed.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import distributed as dist
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.nn.parallel import DistributedDataParallel

# (label, model, batch per process)
CASES = [("cnn", "cnn", 128), ("mlp-256", "mlp", 256), ("mlp-1024", "mlp", 1024)]
PHASES = ("alone0", "alone1", "together", "synced")
SWEEP_BYTES = [8 * 4**k for k in range(12)]  # 8 B .. 32 MiB
# (link speed in Gb/s, assumed latency per message in seconds): TCP over 10 Gb Ethernet,
# and a 100 Gb/s fabric with RDMA
NETWORKS = [(10, 25e-6), (100, 3e-6)]


def build(name: str) -> tuple[nn.Module, tuple[int, ...]]:
    cr.manual_seed(0)
    if name == "cnn":
        from chainrule.train import build_model

        return build_model("cnn"), (1, 8, 8)
    net = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    return net, (784,)


def idle_barrier() -> None:
    """A barrier that sleeps instead of spinning, so the rank that waits leaves its core idle."""
    w = dist.group.world("bench")
    request = w.comm.Ibarrier()
    while not request.Test():
        time.sleep(2e-4)


def all_reduce_seconds(nbytes: int, reps: int) -> float:
    buf = np.zeros(max(1, nbytes // 4), dtype=np.float32)
    dist.all_reduce(buf)  # warm-up
    times = []
    for _ in range(reps):
        dist.barrier()
        t0 = time.perf_counter()
        dist.all_reduce(buf)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(name: str, batch: int, blocks: int, block_seconds: float) -> dict[str, Any]:
    rank = dist.get_rank()
    net, shape = build(name)
    model = DistributedDataParallel(net)
    opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(rank)
    X = cr.tensor(rng.standard_normal((batch, *shape)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 10, batch))

    def step() -> float:
        t0 = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()
        return time.perf_counter() - t0

    with model.no_sync():
        for _ in range(3):
            step()
    estimate = statistics.median(step() for _ in range(5))
    # a block lasts about block_seconds (the same count of steps on both ranks), and starts
    # with 2 steps that are not counted, so a core that was idle is back at speed
    w = dist.group.world("bench")
    n = w.comm.allreduce(max(5, min(200, round(block_seconds / estimate))), op=w.mpi.MAX)
    times: dict[str, list[float]] = {p: [] for p in PHASES}
    for _ in range(blocks):
        for phase in PHASES:
            idle_barrier()
            if phase == "synced":
                times[phase] += [step() for _ in range(n + 2)][2:]
            elif phase == "together" or phase == f"alone{rank}":
                with model.no_sync():
                    times[phase] += [step() for _ in range(n + 2)][2:]
    grad_bytes = sum(p.data.nbytes for p in net.parameters())
    bare = all_reduce_seconds(grad_bytes, 30)
    mine = w.comm.allgather(times)
    # throughput is about mean step times; a synchronous step waits for the slower rank,
    # so the bound it allows is the mean over steps of the slower of the two together
    pair = [max(a, b) for a, b in zip(mine[0]["together"], mine[1]["together"], strict=True)]
    return {
        "batch": batch,
        "grad_bytes": grad_bytes,
        "alone": [statistics.fmean(mine[r][f"alone{r}"]) for r in (0, 1)],
        "together": [statistics.fmean(mine[r]["together"]) for r in (0, 1)],
        "slower_together": statistics.fmean(pair),
        "synced": max(statistics.fmean(mine[r]["synced"]) for r in (0, 1)),
        "bare_all_reduce": bare,
    }


def worker(blocks: int, block_seconds: float) -> None:
    dist.init_process_group()
    if dist.get_world_size() != 2:
        sys.exit("the worker compares 1 and 2 busy processes: run it with mpiexec -n 2")
    report: dict[str, Any] = {
        label: measure(name, batch, blocks, block_seconds) for label, name, batch in CASES
    }
    report["sweep"] = [(b, all_reduce_seconds(b, 20)) for b in SWEEP_BYTES]
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(report), flush=True)


# ---------------------------------------------------------------- the launcher side
def mpiexec() -> str:
    beside = Path(sysconfig.get_path("scripts")) / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        sys.exit("no mpiexec found: pip install 'chainrule[dist]'")
    return found


def launch(blocks: int, block_seconds: float) -> dict[str, Any]:
    cmd = [mpiexec(), "-n", "2", sys.executable, __file__, "--worker"]
    cmd += ["--blocks", str(blocks), "--block-seconds", str(block_seconds)]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")


def fit_latency_bandwidth(points: list[tuple[int, float]]) -> tuple[float, float]:
    """``t = a + bytes / B`` fitted to relative errors (small and large sizes count alike).

    Returns (a in seconds, B in bytes per second).
    """
    s = np.array([p[0] for p in points], dtype=float)
    t = np.array([p[1] for p in points], dtype=float)
    slope, a = np.polyfit(s, t, 1, w=1 / t)
    return float(a), float(1 / slope)


def ring_all_reduce(n: int, nbytes: float, bandwidth: float, alpha: float) -> float:
    """Seconds for a ring all-reduce of ``nbytes`` over ``n`` machines.

    A reduce-scatter then an all-gather: 2 (n - 1) steps, each moving one
    n-th of the data over every link at once, so each machine sends (and
    receives) 2 (n - 1) / n times the data however many machines there are.
    """
    return 2 * (n - 1) * alpha + 2 * (n - 1) / n * nbytes / bandwidth


def ms(seconds: float) -> str:
    return f"{1e3 * seconds:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="launches (default 3)")
    parser.add_argument("--blocks", type=int, default=6, help="blocks per phase (default 6)")
    parser.add_argument(
        "--block-seconds", type=float, default=0.1, help="length of a block (default 0.1 s)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.blocks, args.block_seconds)
        return
    threads = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    print(f"{os.cpu_count()} cores, numpy {np.__version__}, threads {threads}")
    runs = []
    for r in range(args.rounds):
        runs.append(launch(args.blocks, args.block_seconds))
        print(f"round {r + 1}/{args.rounds} done", flush=True)

    def med(case: str, key: str, rank: int | None = None) -> float:
        values = [run[case][key] if rank is None else run[case][key][rank] for run in runs]
        return statistics.median(values)

    print()
    print(
        "| model | batch per process | step alone, rank 0 / rank 1 (ms) "
        "| both busy, no all-reduce, rank 0 / rank 1 (ms) | synced step (ms) "
        "| 1 process: samples/s | 2 processes: samples/s | speed-up | ideal "
        "| all-reduce in the step (ms) | bare all-reduce (ms) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rounds = []
    for case, _, batch in CASES:
        pairs = [
            f"{2 * run[case]['alone'][0] / run[case]['synced']:.2f}x"
            f"/{2 * run[case]['alone'][0] / run[case]['slower_together']:.2f}x"
            for run in runs
        ]
        rounds.append(f"{case}: " + " ".join(pairs))
        alone = [med(case, "alone", r) for r in (0, 1)]
        together = [med(case, "together", r) for r in (0, 1)]
        slower, synced = med(case, "slower_together"), med(case, "synced")
        kb = runs[0][case]["grad_bytes"] / 1e3
        print(
            f"| {case} ({kb:.0f} kB of gradients) | {batch} | {ms(alone[0])} / {ms(alone[1])} "
            f"| {ms(together[0])} / {ms(together[1])} | {ms(synced)} "
            f"| {batch / alone[0]:,.0f} | {2 * batch / synced:,.0f} "
            f"| {2 * alone[0] / synced:.2f}x | {2 * alone[0] / slower:.2f}x "
            f"| {ms(synced - slower)} | {ms(med(case, 'bare_all_reduce'))} |"
        )
    print("speed-up / ideal in each round:")
    for line in rounds:
        print("  " + line)
    sweep = [
        (b, statistics.median(dict(run["sweep"])[b] for run in runs)) for b in SWEEP_BYTES
    ]
    a, bw = fit_latency_bandwidth(sweep)
    print()
    print("all-reduce between the 2 processes (median over rounds):")
    for b, t in sweep:
        print(f"  {b:>10,} B  {1e6 * t:9.1f} us   model a + bytes/B: {1e6 * (a + b / bw):9.1f} us")
    print(f"fit: a = {1e6 * a:.1f} us, B = {bw / 1e9:.2f} GB/s")
    for case, _, _ in CASES:
        grad_bytes = runs[0][case]["grad_bytes"]
        print(
            f"{case}: {grad_bytes:,} B, the fit predicts {ms(a + grad_bytes / bw)} ms, "
            f"measured {ms(med(case, 'bare_all_reduce'))} ms"
        )
    print()
    print("on paper: no overlap, every machine as fast as rank 0 alone here")
    print(
        "| model | machines | network | ring all-reduce (ms) | step (ms) | samples/s "
        "| efficiency | with log2(N) latency steps: all-reduce (ms), efficiency |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for case, _, batch in CASES:
        grad_bytes = runs[0][case]["grad_bytes"]
        c1 = med(case, "alone", 0)
        for n in (8, 64):
            for gbit, alpha in NETWORKS:
                t = ring_all_reduce(n, grad_bytes, gbit * 1e9 / 8, alpha)
                t_log = t - 2 * (n - 1) * alpha + 2 * np.log2(n) * alpha
                print(
                    f"| {case} | {n} | {gbit} Gb/s | {ms(t)} | {ms(c1 + t)} "
                    f"| {n * batch / (c1 + t):,.0f} | {100 * c1 / (c1 + t):.0f} % "
                    f"| {ms(t_log)}, {100 * c1 / (c1 + t_log):.0f} % |"
                )


if __name__ == "__main__":
    main()
