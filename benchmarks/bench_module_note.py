"""What naming layers in pictures costs a training step: nn.Module.__call__ notes on
its output which module made it (one tuple per module call, nothing per op).

The same model and step run with the note ("noted") and with ``__call__`` reduced
to ``forward`` ("bare"), in interleaved rounds, so a noisy machine slows both
alike. Two models: a 2-16-16-1 tanh MLP on a batch of 64 (small arrays: the
engine's own overhead is the whole cost, the worst case for the note) and a
784-256-256-10 ReLU MLP on a batch of 128 (MNIST-sized).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        OPENBLAS_NUM_THREADS=1 python benchmarks/bench_module_note.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.nn.module import Module

NOTED = Module.__call__


def bare(self: Module, *args: Any, **kwargs: Any) -> Any:
    return self.forward(*args, **kwargs)


def step_of(sizes: list[int], act: type[nn.Module], batch: int) -> Callable[[], None]:
    cr.manual_seed(0)
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out), act()]
    model = nn.Sequential(*layers[:-1])
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    y = cr.tensor(rng.standard_normal((batch, sizes[-1])).astype(np.float32))
    loss_fn = nn.MSELoss()
    opt = cr.optim.SGD(model.parameters(), lr=0.01)

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def timed(step: Callable[[], None], seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        n += 1
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=0.2, help="per round and variant")
    args = parser.parse_args()
    cases = {
        "small 2-16-16-1 tanh, batch 64": step_of([2, 16, 16, 1], nn.Tanh, 64),
        "mlp 784-256-256-10 relu, batch 128": step_of([784, 256, 256, 10], nn.ReLU, 128),
    }
    for name, step in cases.items():
        times: dict[str, list[float]] = {"noted": [], "bare": []}
        for _ in range(args.rounds):
            for variant, call in (("noted", NOTED), ("bare", bare)):
                Module.__call__ = call  # type: ignore[method-assign]
                step()  # warm
                times[variant].append(timed(step, args.seconds))
        Module.__call__ = NOTED  # type: ignore[method-assign]
        ratios = [a / b for a, b in zip(times["noted"], times["bare"], strict=True)]
        print(f"{name}: noted {statistics.median(times['noted']) * 1e6:.0f} µs, bare "
              f"{statistics.median(times['bare']) * 1e6:.0f} µs per step (medians); "
              f"noted/bare per round: median {statistics.median(ratios):.3f}, "
              f"min {min(ratios):.3f}, max {max(ratios):.3f}")


if __name__ == "__main__":
    main()
