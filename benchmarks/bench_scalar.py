"""One training step of micrograd's demo, on four scalar engines, side by side.

The step is the one in micrograd's ``demo.ipynb``: ``MLP(2, [16, 16, 1])`` on
100 two-moons points, forward, max-margin (hinge) loss plus an L2 term
(1e-4 × the sum of squared parameters), backward, and an SGD update.

* micrograd 0.1.0 as users run it (cycle collector on), and with
  ``gc.disable()`` (the cycles it leaves are collected outside the timing);
* chainrule's ``Value``, as users run it (cycle collector on);
* the same network in plain Python floats with a hand-derived backward: the
  floor for any pure-Python scalar engine.

The engines run in turns, one step each per round, so that a slow moment of
the machine hits all of them alike; the script prints median step times,
ratios and memory per graph node. All engines start from the same weights and
must agree on every loss, so the comparison is of like with like.

Run:  pip install -e '.[bench]' && python benchmarks/bench_scalar.py
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.graph import toposort
from chainrule.scalar import Value

ALPHA = 1e-4  # weight of the L2 term
SIZES = [2, 16, 16, 1]


def make_moons(n: int, noise: float, seed: int) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles, labels +1 / -1 (as micrograd's demo uses)."""
    rng = np.random.default_rng(seed)
    t_out = np.linspace(0.0, math.pi, n - n // 2)
    t_in = np.linspace(0.0, math.pi, n // 2)
    X = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
        ]
    )
    X += rng.normal(scale=noise, size=X.shape)
    y = [1] * (n - n // 2) + [-1] * (n // 2)
    order = rng.permutation(n)
    return X[order].tolist(), [y[i] for i in order]


# -- micrograd's nn.py, written over any Value class ------------------------
class Neuron:
    def __init__(self, weights: Sequence[Any], bias: Any, nonlin: bool) -> None:
        self.w, self.b, self.nonlin = list(weights), bias, nonlin

    def __call__(self, x: Sequence[Any]) -> Any:
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Any]:
        return self.w + [self.b]


class MLP:
    def __init__(self, value: Callable[[float], Any], weights: list[list[list[float]]]) -> None:
        # weights[layer][neuron] = [w_1, ..., w_nin, b]
        last = len(weights) - 1
        self.layers = [
            [Neuron([value(w) for w in row[:-1]], value(row[-1]), i != last) for row in layer]
            for i, layer in enumerate(weights)
        ]

    def __call__(self, x: Sequence[Any]) -> Any:
        for layer in self.layers:
            out = [n(x) for n in layer]
            x = out[0] if len(out) == 1 else out
        return x

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for n in layer for p in n.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0


def build_loss(
    model: Any, value: Callable[[float], Any], X: list[list[float]], y: list[int]
) -> Any:
    """micrograd's demo loss: mean hinge loss + ALPHA * sum of squared parameters."""
    inputs = [list(map(value, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


class GraphEngine:
    """A training loop over one scalar engine (micrograd's or chainrule's)."""

    def __init__(self, name: str, value: Callable[[float], Any], model: Any, gc_on: bool) -> None:
        self.name, self.value, self.model, self.gc_on = name, value, model, gc_on
        self.k = 0

    def step(self, X: list[list[float]], y: list[int]) -> float:
        total = build_loss(self.model, self.value, X, y)
        self.model.zero_grad()
        total.backward()
        lr = 1.0 - 0.9 * self.k / 100
        for p in self.model.parameters():
            p.data -= lr * p.grad
        self.k += 1
        return float(total.data)


class FloatEngine:
    """The same step in plain floats, with the backward pass derived by hand."""

    name, gc_on = "plain floats, hand-written backward", True

    def __init__(self, weights: list[list[list[float]]]) -> None:
        self.W = [[row[:] for row in layer] for layer in weights]
        self.k = 0

    def step(self, X: list[list[float]], y: list[int]) -> float:
        W, n, last = self.W, len(X), len(self.W) - 1
        grads = [[[0.0] * len(row) for row in layer] for layer in W]
        total = 0.0
        for xs, yi in zip(X, y, strict=True):
            acts = [xs]  # forward, keeping each layer's input and pre-activations
            pres = []
            for i, layer in enumerate(W):
                inp = acts[-1]
                # row = [w_1, ..., w_nin, b]: zip stops before the bias
                z = [sum((w * a for w, a in zip(row, inp, strict=False)), row[-1]) for row in layer]
                pres.append(z)
                acts.append(z if i == last else [v if v > 0 else 0.0 for v in z])
            margin = 1.0 - yi * acts[-1][0]
            if margin <= 0.0:
                continue
            total += margin
            up = [-yi / n]  # ∂loss/∂score through relu(margin) and the mean
            for i in range(last, -1, -1):
                if i != last:
                    up = [u if z > 0 else 0.0 for u, z in zip(up, pres[i], strict=True)]
                inp, layer, g_layer = acts[i], W[i], grads[i]
                for g_row, u in zip(g_layer, up, strict=True):
                    for j, a in enumerate(inp):
                        g_row[j] += u * a
                    g_row[-1] += u
                if i:  # the gradient for the layer below (the data needs none)
                    up = [
                        sum(u * row[j] for u, row in zip(up, layer, strict=True))
                        for j in range(len(inp))
                    ]
        params = [p for layer in W for row in layer for p in row]
        loss = total / n + ALPHA * sum(p * p for p in params)
        lr = 1.0 - 0.9 * self.k / 100
        for layer, g_layer in zip(W, grads, strict=True):
            for row, g_row in zip(layer, g_layer, strict=True):
                for j, (p, g) in enumerate(zip(row, g_row, strict=True)):
                    row[j] = p - lr * (g + 2.0 * ALPHA * p)
        self.k += 1
        return loss


def run_block(
    engine: Any, X: list[list[float]], y: list[int], steps: int
) -> tuple[list[float], list[float]]:
    """``steps`` consecutive training steps; the first one is a warm-up, not timed.

    Consecutive steps are how users run a training loop: micrograd's graph of
    step k is garbage made of reference cycles, and the cycle collector pays
    for it during step k + 1. The heap is cleaned before the block (untimed),
    so no engine pays for another's garbage.
    """
    gc.collect()
    if not engine.gc_on:
        gc.disable()
    times, losses = [], []
    try:
        for i in range(steps):
            start = time.perf_counter()
            losses.append(engine.step(X, y))
            if i:
                times.append(time.perf_counter() - start)
    finally:
        gc.enable()
        gc.collect()
    return times, losses


def bytes_per_node(
    value: Callable[[float], Any],
    weights: list[list[list[float]]],
    X: list[list[float]],
    y: list[int],
    inputs: Callable[[Any], Any],
) -> tuple[float, int]:
    """Memory held by one step's graph, divided by its number of nodes."""
    model = MLP(value, weights)
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        total = build_loss(model, value, X, y)
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        nodes = len(toposort(total, inputs))
    finally:
        gc.enable()
    return (after - before) / nodes, nodes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of blocks per engine")
    parser.add_argument("--block", type=int, default=3, help="consecutive steps per block")
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args(argv)

    from micrograd.engine import Value as MgValue  # only the benchmark needs micrograd
    from micrograd.nn import MLP as MgMLP

    X, y = make_moons(100, noise=0.1, seed=args.seed)
    random.seed(args.seed)
    mg_model = MgMLP(2, SIZES[1:])  # micrograd's own nn, as users run it
    weights = [
        [[w.data for w in n.w] + [n.b.data] for n in layer.neurons] for layer in mg_model.layers
    ]
    mg_model_off = MgMLP(2, SIZES[1:])
    for p, q in zip(mg_model_off.parameters(), mg_model.parameters(), strict=True):
        p.data = q.data

    engines = [
        GraphEngine("micrograd 0.1.0 (gc on, as users run it)", MgValue, mg_model, True),
        GraphEngine("micrograd 0.1.0 (gc.disable())", MgValue, mg_model_off, False),
        GraphEngine("chainrule Value (gc on)", Value, MLP(Value, weights), True),
        FloatEngine(weights),
    ]
    times: dict[str, list[float]] = {e.name: [] for e in engines}
    losses: dict[str, list[float]] = {e.name: [] for e in engines}
    for _ in range(args.rounds):
        for e in engines:
            t, l = run_block(e, X, y, args.block)
            times[e.name] += t
            losses[e.name] += l
    reference = losses[engines[0].name]
    for name, ls in losses.items():
        worst = max(abs(a - b) for a, b in zip(ls, reference, strict=True))
        if worst > 1e-9:
            print(f"{name} disagrees with micrograd on the loss by {worst:g}", file=sys.stderr)
            return 1

    timed = args.rounds * (args.block - 1)
    print(
        f"Python {sys.version.split()[0]}, {timed} timed steps per engine "
        f"({args.rounds} rounds of {args.block} consecutive steps, the first a warm-up); "
        f"loss after the last step {reference[-1]:.6f}\n"
    )
    median = {name: statistics.median(ts) for name, ts in times.items()}
    ours = median["chainrule Value (gc on)"]
    width = max(map(len, median))
    print(f"{'engine':<{width}}  median step   vs chainrule   fastest step")
    for name, t in median.items():
        fastest = min(times[name])
        print(f"{name:<{width}}  {t * 1e3:8.1f} ms   {t / ours:9.2f}x   {fastest * 1e3:9.1f} ms")

    mg_bytes, mg_nodes = bytes_per_node(MgValue, weights, X, y, lambda v: v._prev)
    cr_bytes, cr_nodes = bytes_per_node(Value, weights, X, y, lambda v: v.inputs)
    print(f"\nmemory per graph node (tracemalloc, {cr_nodes} nodes per step):")
    print(f"  micrograd  {mg_bytes:6.0f} bytes  ({mg_nodes} nodes)")
    print(f"  chainrule  {cr_bytes:6.0f} bytes")

    mg_on = median["micrograd 0.1.0 (gc on, as users run it)"]
    mg_off = median["micrograd 0.1.0 (gc.disable())"]
    ok = mg_on / ours >= 15 and mg_off > ours
    print(
        f"\ntargets: >= 15x micrograd (gc on): {mg_on / ours:.1f}x; "
        f"faster than micrograd with gc off: {mg_off / ours:.2f}x -> {'met' if ok else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
