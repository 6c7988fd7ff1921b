"""Per-step time of the tensor engine against its peers, side by side in one run.

Three cases, each written the same way in every library:

* ``mlp``: a 784-256-256-10 ReLU MLP, softmax cross-entropy, batch 128,
  float32, one SGD step (MNIST-sized; the inputs are random, the work is not).
* ``small``: a 2-16-16-1 tanh MLP, squared error, batch 64, float32, one SGD
  step: small arrays, so the cost is the engine's own overhead.
* ``chain``: 200 elementwise ops (tanh, ×1.5, sin, +0.1, repeated) on a
  10-element vector, forward and backward.

"numpy" is the same computation with the backward pass derived and written
by hand: the floor any NumPy-based engine is measured against. Each engine
computes the loss with its own softmax cross-entropy, as its users would. Peers that are
not installed are skipped. Rounds interleave the libraries so that a noisy
machine slows all of them alike; the median and the best round's step time
are reported (on a busy machine the best round is the steadier figure).

Run (one thread, every library under the same settings):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_tensor.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

import chainrule as cr

F32 = np.float32
LR = 0.01


def init_params(sizes: list[int], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(F32))
        params.append(np.zeros(fan_out, dtype=F32))
    return params


# ------------------------------------------------------------------ the cases
class Case:
    """Data and initial parameters shared by every library."""

    def __init__(self, name: str) -> None:
        rng = np.random.default_rng(1)
        self.name = name
        if name == "mlp":
            self.sizes = [784, 256, 256, 10]
            self.x = rng.standard_normal((128, 784)).astype(F32)
            self.y = rng.integers(0, 10, 128)
        elif name == "small":
            self.sizes = [2, 16, 16, 1]
            self.x = rng.standard_normal((64, 2)).astype(F32)
            self.y = rng.standard_normal((64, 1)).astype(F32)
        else:
            self.x = rng.standard_normal(10).astype(F32)
            self.y = None
        self.params = init_params(self.sizes) if name != "chain" else []


# ---- hand-written NumPy: forward, then the backward derived by hand
def numpy_step(case: Case) -> Callable[[], None]:
    p = [a.copy() for a in case.params]
    x, y = case.x, case.y

    if case.name == "mlp":
        onehot = np.eye(10, dtype=F32)[y]

        def step() -> None:
            w1, b1, w2, b2, w3, b3 = p
            z1 = x @ w1 + b1
            h1 = np.maximum(z1, 0)
            z2 = h1 @ w2 + b2
            h2 = np.maximum(z2, 0)
            z3 = h2 @ w3 + b3
            e = np.exp(z3 - z3.max(1, keepdims=True))
            s = e.sum(1, keepdims=True)
            dz3 = (e / s - onehot) / len(x)  # d mean(-log softmax[y]) / d logits
            dz2 = (dz3 @ w3.T) * (z2 > 0)
            dz1 = (dz2 @ w2.T) * (z1 > 0)
            grads = [x.T @ dz1, dz1.sum(0), h1.T @ dz2, dz2.sum(0), h2.T @ dz3, dz3.sum(0)]
            for a, g in zip(p, grads, strict=True):
                a -= LR * g

        return step

    if case.name == "small":

        def step() -> None:
            w1, b1, w2, b2, w3, b3 = p
            h1 = np.tanh(x @ w1 + b1)
            h2 = np.tanh(h1 @ w2 + b2)
            d = h2 @ w3 + b3 - y
            dz3 = 2 * d / d.size
            dz2 = (dz3 @ w3.T) * (1 - h2 * h2)
            dz1 = (dz2 @ w2.T) * (1 - h1 * h1)
            grads = [x.T @ dz1, dz1.sum(0), h1.T @ dz2, dz2.sum(0), h2.T @ dz3, dz3.sum(0)]
            for a, g in zip(p, grads, strict=True):
                a -= LR * g

        return step

    def step() -> None:
        v = x
        saved = []
        for _ in range(50):
            t = np.tanh(v)
            u = t * 1.5
            saved.append((t, u))
            v = np.sin(u) + 0.1
        g = np.ones_like(v)
        for t, u in reversed(saved):
            g = g * np.cos(u) * 1.5 * (1 - t * t)

    return step


# ---- chainrule
def chainrule_step(case: Case) -> Callable[[], None]:
    p = [cr.tensor(a, requires_grad=True) for a in case.params]
    x = cr.tensor(case.x)

    if case.name in ("mlp", "small"):
        y = cr.tensor(case.y)

        def step() -> None:
            w1, b1, w2, b2, w3, b3 = p
            act = cr.relu if case.name == "mlp" else cr.tanh
            h = act(act(x @ w1 + b1) @ w2 + b2) @ w3 + b3
            if case.name == "mlp":
                loss = cr.nn.functional.cross_entropy(h, y)
            else:
                d = h - y
                loss = (d * d).mean()
            for a in p:
                a.grad = None
            loss.backward()
            for a in p:
                a.data -= LR * a.grad.data

        return step

    def step() -> None:
        v = cr.tensor(case.x, requires_grad=True)
        out = v
        for _ in range(50):
            out = (out.tanh() * 1.5).sin() + 0.1
        out.backward(np.ones_like(case.x))

    return step


# ---- PyTorch eager
def torch_step(case: Case) -> Callable[[], None] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    p = [torch.tensor(a, requires_grad=True) for a in case.params]
    x = torch.tensor(case.x)

    if case.name in ("mlp", "small"):
        y = torch.tensor(case.y)

        def step() -> None:
            w1, b1, w2, b2, w3, b3 = p
            act = torch.relu if case.name == "mlp" else torch.tanh
            h = act(act(x @ w1 + b1) @ w2 + b2) @ w3 + b3
            if case.name == "mlp":
                loss = torch.nn.functional.cross_entropy(h, y)
            else:
                loss = ((h - y) ** 2).mean()
            for a in p:
                a.grad = None
            loss.backward()
            with torch.no_grad():
                for a in p:
                    a -= LR * a.grad

        return step

    def step() -> None:
        v = x.clone().requires_grad_(True)
        out = v
        for _ in range(50):
            out = torch.sin(torch.tanh(out) * 1.5) + 0.1
        out.backward(torch.ones_like(v))

    return step


# ---- HIPS autograd
def autograd_step(case: Case) -> Callable[[], None] | None:
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return None
    p = [a.copy() for a in case.params]
    x, y = case.x, case.y

    if case.name in ("mlp", "small"):
        onehot = np.eye(10, dtype=F32)[y] if case.name == "mlp" else None

        def loss(params: list) -> object:
            w1, b1, w2, b2, w3, b3 = params
            act = (lambda z: anp.maximum(z, 0)) if case.name == "mlp" else anp.tanh
            h = anp.dot(act(anp.dot(act(anp.dot(x, w1) + b1), w2) + b2), w3) + b3
            if case.name == "mlp":
                m = anp.max(h, axis=1, keepdims=True)
                logp = h - m - anp.log(anp.sum(anp.exp(h - m), axis=1, keepdims=True))
                return -anp.mean(anp.sum(logp * onehot, axis=1))
            return anp.mean((h - y) ** 2)

        gradient = autograd.grad(loss)

        def step() -> None:
            for a, g in zip(p, gradient(p), strict=True):
                a -= LR * g

        return step

    def chain(v: object) -> object:
        for _ in range(50):
            v = anp.sin(anp.tanh(v) * 1.5) + 0.1
        return v

    vjp_maker = autograd.make_vjp(chain)

    def step() -> None:
        vjp, _ = vjp_maker(x)
        vjp(np.ones_like(x))

    return step


# ---- MyGrad
def mygrad_step(case: Case) -> Callable[[], None] | None:
    try:
        import mygrad as mg
    except ImportError:
        return None
    p = [mg.Tensor(a.copy()) for a in case.params]
    x = case.x

    if case.name in ("mlp", "small"):
        y = case.y

        def step() -> None:
            w1, b1, w2, b2, w3, b3 = p
            act = mg.nnet.relu if case.name == "mlp" else mg.tanh
            h = mg.matmul(act(mg.matmul(act(mg.matmul(x, w1) + b1), w2) + b2), w3) + b3
            if case.name == "mlp":
                loss = mg.nnet.softmax_crossentropy(h, y)
            else:
                loss = mg.mean((h - y) ** 2)
            loss.backward()
            for a in p:
                a.data -= LR * a.grad

        return step

    def step() -> None:
        v = mg.Tensor(x)
        out = v
        for _ in range(50):
            out = mg.sin(mg.tanh(out) * 1.5) + 0.1
        out.backward(np.ones_like(x))

    return step


LIBRARIES = {
    "numpy": numpy_step,
    "chainrule": chainrule_step,
    "torch": torch_step,
    "autograd": autograd_step,
    "mygrad": mygrad_step,
}


def measure(case: Case, rounds: int, steps: int) -> dict[str, list[float]]:
    steppers = {}
    for name, make in LIBRARIES.items():
        s = make(case)
        if s is not None:
            for _ in range(3):  # warm up
                s()
            steppers[name] = s
    times: dict[str, list[float]] = {name: [] for name in steppers}
    for _ in range(rounds):
        for name, s in steppers.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                s()
            times[name].append((time.perf_counter() - t0) / steps)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--cases", nargs="*", default=["mlp", "small", "chain"])
    args = parser.parse_args()
    try:
        from threadpoolctl import threadpool_info

        blas = {i["internal_api"]: (i["num_threads"], i.get("architecture")) for i in
                threadpool_info()}
        print(f"BLAS: {blas}")
    except ImportError:
        pass
    steps = {"mlp": 5, "small": 40, "chain": 10}  # short rounds, interleaved often
    for name in args.cases:
        result = measure(Case(name), args.rounds, steps[name])
        med = {lib: statistics.median(ts) for lib, ts in result.items()}
        best = {lib: min(ts) for lib, ts in result.items()}
        print(f"\n{name}: step time (us), and relative to hand-written NumPy")
        print(f"  {'':10s} {'median':>10s} {'ratio':>7s} {'best':>10s} {'ratio':>7s}")
        for lib in result:
            print(f"  {lib:10s} {med[lib] * 1e6:10.1f} {med[lib] / med['numpy']:6.2f}x"
                  f" {best[lib] * 1e6:10.1f} {best[lib] / best['numpy']:6.2f}x")


if __name__ == "__main__":
    main()
