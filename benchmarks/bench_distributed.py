"""Data-parallel scaling: samples per second on 1 and 2 processes, and what the all-reduce costs.

The script launches itself: ``mpiexec -n 1`` and ``mpiexec -n 2`` of this
file with ``--worker``, interleaved, ``--rounds`` times; the medians over the
rounds are reported. Each worker trains, on random data of the right shapes,

- the digits CNN of ``chainrule train --model cnn`` (1x8x8 images), and
- a 784-256-256-10 ReLU MLP in float32,

with a fixed batch per process (weak scaling: 2 processes take twice the
samples per step), SGD with momentum, wrapped in DistributedDataParallel.
Every process times its own steps twice: inside ``no_sync()`` (its compute
alone, no all-reduce) and normally; the difference is what averaging the
gradients costs per step. It also times a bare all-reduce of the gradients'
size, and (with 2 processes) all-reduces of 8 B to 16 MB to fit the
latency and bandwidth of this machine's transport to ``t = a + bytes / B``.

Run single-threaded, with the machine's OpenBLAS workarounds lifted for this
command only::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        OPENBLAS_NUM_THREADS=1 python benchmarks/bench_distributed.py

The two cores of a small virtual machine need not be equally fast, and a
synchronous step waits for the slower process: the report gives each
process's own step time and the speed-up those allow (``ideal``), next to
the one measured. ``docs/distributed.md`` turns the numbers into the ring
all-reduce model for 8 and 64 machines.
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

MODELS = {"cnn": 128, "mlp": 256}  # model -> batch per process
SWEEP_BYTES = [8 * 4**k for k in range(12)]  # 8 B .. 32 MiB


def build(name: str) -> tuple[nn.Module, tuple[int, ...]]:
    cr.manual_seed(0)
    if name == "cnn":
        from chainrule.train import build_model

        return build_model("cnn"), (1, 8, 8)
    net = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    return net, (784,)


def timed_steps(step: Any, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


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


def worker(steps: int) -> None:
    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    report: dict[str, Any] = {"world": world, "models": {}}
    for name, batch in MODELS.items():
        net, shape = build(name)
        model = DistributedDataParallel(net)
        opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        rng = np.random.default_rng(rank)
        X = cr.tensor(rng.standard_normal((batch, *shape)).astype(np.float32))
        y = cr.tensor(rng.integers(0, 10, batch))

        def step(model: Any = model, opt: Any = opt, X: Any = X, y: Any = y) -> None:
            opt.zero_grad()
            F.cross_entropy(model(X), y).backward()
            opt.step()

        timed_steps(step, 5)  # warm-up
        dist.barrier()
        with model.no_sync():
            alone = timed_steps(step, steps)
        dist.barrier()
        t0 = time.perf_counter()
        synced = timed_steps(step, steps)
        wall = time.perf_counter() - t0
        grad_bytes = sum(p.data.nbytes for p in net.parameters())
        mine = {
            "compute": statistics.median(alone),
            "step": statistics.median(synced),
            "wall": wall,
            "bare_all_reduce": all_reduce_seconds(grad_bytes, 30) if world > 1 else 0.0,
        }
        everyone = [dict(mine)]
        if world > 1:
            everyone = dist.group.world("bench").comm.allgather(mine)
        report["models"][name] = {
            "batch": batch,
            "grad_bytes": grad_bytes,
            "ranks": everyone,
            "samples_per_s": world * batch * steps / max(r["wall"] for r in everyone),
        }
    if world > 1:
        report["sweep"] = [(b, all_reduce_seconds(b, 20)) for b in SWEEP_BYTES]
    if rank == 0:
        print("RESULT " + json.dumps(report), flush=True)


# ---------------------------------------------------------------- the launcher side
def mpiexec() -> str:
    beside = Path(sysconfig.get_path("scripts")) / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        sys.exit("no mpiexec found: pip install 'chainrule[dist]'")
    return found


def launch(n: int, steps: int) -> dict[str, Any]:
    cmd = [mpiexec(), "-n", str(n), sys.executable, __file__, "--worker", "--steps", str(steps)]
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


# (link speed in Gb/s, assumed latency per message in seconds): TCP over 10 Gb Ethernet,
# and a 100 Gb/s fabric with RDMA
NETWORKS = [(10, 25e-6), (100, 3e-6)]


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
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per mode (default 40)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.steps)
        return
    threads = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    print(f"{os.cpu_count()} cores, numpy {np.__version__}, threads {threads}")
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    for r in range(args.rounds):
        for n in (1, 2):
            runs[n].append(launch(n, args.steps))
        print(f"round {r + 1}/{args.rounds} done", flush=True)

    def med(n: int, model: str, key: str, rank: int = 0) -> float:
        return statistics.median(run["models"][model]["ranks"][rank][key] for run in runs[n])

    print()
    print("| model | batch per process | 1 process: samples/s | 2 processes: samples/s "
          "| speed-up | step alone, 1 process (ms) | step alone, rank 0 / rank 1 (ms) "
          "| ideal speed-up | all-reduce in the step (ms) | bare all-reduce (ms) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model, batch in MODELS.items():
        one = statistics.median(run["models"][model]["samples_per_s"] for run in runs[1])
        two = statistics.median(run["models"][model]["samples_per_s"] for run in runs[2])
        c1 = med(1, model, "compute")
        c_r = [med(2, model, "compute", r) for r in (0, 1)]
        step_r = [med(2, model, "step", r) for r in (0, 1)]
        in_step = max(step_r) - max(c_r)
        bare = med(2, model, "bare_all_reduce")
        kb = runs[2][0]["models"][model]["grad_bytes"] / 1e3
        print(
            f"| {model} ({kb:.0f} kB of gradients) | {batch} | {one:,.0f} | {two:,.0f} "
            f"| {two / one:.2f}x | {ms(c1)} | {ms(c_r[0])} / {ms(c_r[1])} "
            f"| {2 * c1 / max(c_r):.2f}x | {ms(in_step)} | {ms(bare)} |"
        )
    sweep = [
        (b, statistics.median(dict(run["sweep"])[b] for run in runs[2])) for b in SWEEP_BYTES
    ]
    a, bw = fit_latency_bandwidth(sweep)
    print()
    print("all-reduce between the 2 processes (median over rounds):")
    for b, t in sweep:
        print(f"  {b:>10,} B  {1e6 * t:9.1f} us   model a + bytes/B: {1e6 * (a + b / bw):9.1f} us")
    print(f"fit: a = {1e6 * a:.1f} us, B = {bw / 1e9:.2f} GB/s")
    for model in MODELS:
        grad_bytes = runs[2][0]["models"][model]["grad_bytes"]
        predicted = a + grad_bytes / bw
        measured = med(2, model, "bare_all_reduce")
        print(f"{model}: {grad_bytes:,} B predicted {ms(predicted)} ms, measured {ms(measured)} ms")
    print()
    print("on paper: no overlap, each machine as fast as one process here")
    print("| model | machines | network | ring all-reduce (ms) | step (ms) | samples/s "
          "| efficiency | with log2(N) latency steps: all-reduce (ms), efficiency |")
    print("|---|---|---|---|---|---|---|---|")
    for model, batch in MODELS.items():
        grad_bytes = runs[2][0]["models"][model]["grad_bytes"]
        c1 = med(1, model, "compute")
        for n in (8, 64):
            for gbit, alpha in NETWORKS:
                t = ring_all_reduce(n, grad_bytes, gbit * 1e9 / 8, alpha)
                t_log = t - 2 * (n - 1) * alpha + 2 * np.log2(n) * alpha
                print(
                    f"| {model} | {n} | {gbit} Gb/s | {ms(t)} | {ms(c1 + t)} "
                    f"| {n * batch / (c1 + t):,.0f} | {100 * c1 / (c1 + t):.0f} % "
                    f"| {ms(t_log)}, {100 * c1 / (c1 + t_log):.0f} % |"
                )


if __name__ == "__main__":
    main()
