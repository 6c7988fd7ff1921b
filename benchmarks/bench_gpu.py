"""chainrule on a GPU, next to chainrule on the CPU and PyTorch CUDA eager, in one run.

Two workloads, each the same model, weights and batches in every framework:

- ``mlp``: one training step (forward, cross-entropy, backward, SGD with
  momentum) of a 784-4096-4096-10 ReLU MLP on a batch of 1024, float32;
- ``cnn``: one epoch of the digits CNN of ``chainrule train --model cnn``
  (1,438 images in 44 batches of 32 or 33, Adam).

The frameworks alternate round by round (so a change in the machine's load
hits all alike) and the median round counts. A GPU round ends with a device
synchronize, so its time is the GPU's work and not only its launch. CPU rounds
of the large MLP are slow: ``--cpu-steps`` of them (default 2).

    python benchmarks/bench_gpu.py                  # everything that is there
    python benchmarks/bench_gpu.py --json out.json  # and the figures as JSON

Without CuPy or without PyTorch's CUDA those columns are left out, and said so.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import backend, optim
from chainrule.models import build_model
from chainrule.nn import functional as F
from chainrule.train import TrainConfig, digits_split

SIZES = (784, 4096, 4096, 10)
Step = Callable[[], None]


# ------------------------------------------------------------------ chainrule
def chainrule_mlp(device: str, sizes: tuple[int, ...], batch: int, seed: int = 0
                  ) -> tuple[Step, Step, cr.nn.Module]:
    cr.manual_seed(seed)
    layers: list[cr.nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(cr.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(cr.nn.ReLU())
    model = cr.nn.Sequential(*layers).to(device)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(seed)
    x = cr.tensor(rng.standard_normal((batch, sizes[0]), dtype=np.float32), device=device)
    y = cr.tensor(rng.integers(0, sizes[-1], batch), device=device)

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step, _sync_for(device), model


def chainrule_cnn(device: str, X: np.ndarray, y: np.ndarray, order: list[np.ndarray]
                  ) -> tuple[Step, Step, cr.nn.Module]:
    cr.manual_seed(0)
    model = build_model("cnn").to(device)
    opt = optim.Adam(model.parameters(), lr=2e-3)
    Xd, yd = cr.tensor(X, device=device), cr.tensor(y, device=device)
    batches = [cr.tensor(b, device=device) for b in order]

    def epoch() -> None:
        model.train()
        for b in batches:
            loss = F.cross_entropy(model(Xd[b]), yd[b])
            opt.zero_grad()
            loss.backward()
            opt.step()

    return epoch, _sync_for(device), model


def _sync_for(device: str) -> Step:
    if device == "cpu":
        return lambda: None
    cupy = backend.cuda_modules()[0]
    return lambda: cupy.cuda.Device().synchronize()


# ------------------------------------------------------------------ PyTorch
def torch_copy(model: cr.nn.Module, theirs: Any) -> Any:
    """``theirs`` (a torch module of the same layers) with ``model``'s weights."""
    import torch

    state = {k: torch.from_numpy(np.array(backend.to_host(v.data)))
             for k, v in model.state_dict().items()}
    theirs.load_state_dict(state)
    return theirs.cuda()


def torch_mlp(model: cr.nn.Module, sizes: tuple[int, ...], batch: int, seed: int = 0
              ) -> tuple[Step, Step]:
    import torch
    from torch import nn

    layers: list[Any] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    theirs = torch_copy(model, nn.Sequential(*layers))
    opt = torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.standard_normal((batch, sizes[0]), dtype=np.float32)).cuda()
    y = torch.from_numpy(rng.integers(0, sizes[-1], batch)).cuda()

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(theirs(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step, torch.cuda.synchronize


def torch_cnn(model: cr.nn.Module, X: np.ndarray, y: np.ndarray, order: list[np.ndarray]
              ) -> tuple[Step, Step]:
    import torch
    from torch import nn

    theirs = torch_copy(model, nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(128, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 10)))
    opt = torch.optim.Adam(theirs.parameters(), lr=2e-3)
    Xt, yt = torch.from_numpy(X).cuda(), torch.from_numpy(y).cuda()
    batches = [torch.from_numpy(b).cuda() for b in order]

    def epoch() -> None:
        theirs.train()
        for b in batches:
            loss = torch.nn.functional.cross_entropy(theirs(Xt[b]), yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()

    return epoch, torch.cuda.synchronize


# ------------------------------------------------------------------ timing
def timed(runs: dict[str, tuple[Step, Step, int]], rounds: int) -> dict[str, float]:
    """Median seconds per call of each run's step; runs alternate round by round, and
    each is called once, untimed, first (compiling GPU kernels, filling memory pools).
    A run is (step, synchronize, calls per round)."""
    for step, sync, _ in runs.values():
        step()
        sync()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (step, sync, calls) in runs.items():
            t0 = time.perf_counter()
            for _ in range(calls):
                step()
            sync()
            times[name].append((time.perf_counter() - t0) / calls)
    return {name: statistics.median(t) for name, t in times.items()}


def available() -> tuple[bool, bool]:
    """Whether chainrule sees a GPU, and whether PyTorch does."""
    try:
        import torch

        torch_cuda = bool(torch.cuda.is_available())
    except ImportError:
        torch_cuda = False
    return backend.cuda_available(), torch_cuda


def run(rounds: int, gpu_steps: int, cpu_steps: int, sizes: tuple[int, ...] = SIZES,
        batch: int = 1024, cpu: bool = True) -> dict[str, Any]:
    gpu, torch_cuda = available()
    results: dict[str, Any] = {"gpu": gpu, "torch_cuda": torch_cuda}
    # the MLP step
    runs: dict[str, tuple[Step, Step, int]] = {}
    model = None
    if gpu:
        step, sync, model = chainrule_mlp("cuda", sizes, batch)
        runs["chainrule cuda"] = (step, sync, gpu_steps)
    if cpu:
        step, sync, cpu_model = chainrule_mlp("cpu", sizes, batch)
        runs["chainrule cpu"] = (step, sync, cpu_steps)
        model = model or cpu_model
    if torch_cuda and model is not None:
        t_step, t_sync = torch_mlp(model, sizes, batch)
        runs["PyTorch cuda"] = (t_step, t_sync, gpu_steps)
    results["mlp"] = timed(runs, rounds)
    # the digits CNN epoch
    X, _, y, _ = digits_split(TrainConfig.for_model("cnn"))
    order = [b.astype(np.int64) for b in
             np.array_split(np.random.default_rng(0).permutation(len(y)), len(y) // 32)]
    runs = {}
    model = None
    if gpu:
        epoch, sync, model = chainrule_cnn("cuda", X, y, order)
        runs["chainrule cuda"] = (epoch, sync, 1)
    if cpu:
        epoch, sync, cpu_model = chainrule_cnn("cpu", X, y, order)
        runs["chainrule cpu"] = (epoch, sync, 1)
        model = model or cpu_model
    if torch_cuda and model is not None:
        t_epoch, t_sync = torch_cnn(model, X, y, order)
        runs["PyTorch cuda"] = (t_epoch, t_sync, 1)
    results["cnn"] = timed(runs, rounds)
    results["cnn_steps"] = len(order)
    return results


def report(results: dict[str, Any], sizes: tuple[int, ...], batch: int) -> None:
    shape = "-".join(map(str, sizes))
    titles = {"mlp": f"MLP {shape} step, batch {batch}, float32",
              "cnn": f"digits CNN epoch ({results['cnn_steps']} steps of 32)"}
    for key, title in titles.items():
        print(title)
        times = results[key]
        for name, seconds in times.items():
            print(f"  {name:<15} {seconds * 1e3:9.2f} ms")
        if "chainrule cuda" in times and "PyTorch cuda" in times:
            ratio = times["chainrule cuda"] / times["PyTorch cuda"]
            print(f"  chainrule cuda / PyTorch cuda: {ratio:.2f}x")
        if "chainrule cuda" in times and "chainrule cpu" in times:
            speedup = times["chainrule cpu"] / times["chainrule cuda"]
            print(f"  chainrule cpu / chainrule cuda: {speedup:.1f}x")
    if not results["gpu"]:
        print("no GPU for chainrule (CuPy missing or no device): cuda columns left out")
    if not results["torch_cuda"]:
        print("no PyTorch with CUDA: its column left out")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--gpu-steps", type=int, default=20,
                        help="MLP steps per GPU round (default 20)")
    parser.add_argument("--cpu-steps", type=int, default=2,
                        help="MLP steps per CPU round (default 2)")
    parser.add_argument("--no-cpu", action="store_true", help="leave chainrule on the CPU out")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args()
    results = run(args.rounds, args.gpu_steps, args.cpu_steps, cpu=not args.no_cpu)
    report(results, SIZES, 1024)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
