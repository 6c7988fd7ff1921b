"""The Hessian of f(x) = sum(tanh(A·x)), x in R^100, in chainrule and its peers.

Every library computes the same 100×100 Hessian in float64 from the same
seeded A and x; the results are checked against the closed form

    H = Aᵀ · diag(-2 tanh(u) (1 - tanh²(u))) · A,   u = A·x,

and against each other before anything is timed. ``cr.hessian`` is forward
over reverse (``jacfwd(jacrev(f))``): one reverse sweep whose 100 gradient
rows are pushed forward together; "chainrule rr" is reverse over reverse,
``jacrev(jacrev(f))``, for comparison. ``torch.func.hessian`` is forward
over reverse too, over ``vmap``. HIPS ``autograd`` and JAX are timed too when they
are installed (JAX both as called and under ``jit``); each is optional.
"numpy" is the closed form evaluated directly: the floor, with no AD at all.

Rounds interleave the libraries so that a noisy machine slows all of them
alike. Reported per Hessian: the median and the best round by the wall
clock, the median CPU time of the process, and chainrule / torch.func on
each (on a shared machine the best round is the steadiest figure).

Run (one thread, every library under the same settings):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_hessian.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

import chainrule as cr

Hessian = Callable[[], np.ndarray]


def problem(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n)) / np.sqrt(n)  # keeps A·x of order 1: tanh not saturated
    x = rng.standard_normal(n)
    return a, x


def closed_form(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    t = np.tanh(a @ x)
    return a.T @ (((-2 * t * (1 - t * t)))[:, None] * a)


# ---------------------------------------------------------------- the libraries
def chainrule_hessian(a: np.ndarray, x: np.ndarray, reverse_over_reverse: bool = False
                      ) -> Hessian:
    at = cr.tensor(a)

    def f(v: cr.Tensor) -> cr.Tensor:
        return cr.tanh(cr.matmul(at, v)).sum()

    h = cr.jacrev(cr.jacrev(f)) if reverse_over_reverse else cr.hessian(f)
    return lambda: h(x).numpy()


def torch_hessian(a: np.ndarray, x: np.ndarray) -> Hessian | None:
    try:
        import torch
        from torch.func import hessian
    except ImportError:
        return None
    torch.set_num_threads(1)
    at, xt = torch.from_numpy(a), torch.from_numpy(x)

    def f(v: torch.Tensor) -> torch.Tensor:
        return torch.tanh(at @ v).sum()

    h = hessian(f)
    return lambda: h(xt).numpy()


def autograd_hessian(a: np.ndarray, x: np.ndarray) -> Hessian | None:
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return None

    def f(v: np.ndarray) -> np.ndarray:
        return anp.sum(anp.tanh(anp.dot(a, v)))

    h = autograd.hessian(f)
    return lambda: np.asarray(h(x))


def jax_hessians(a: np.ndarray, x: np.ndarray) -> dict[str, Hessian]:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    jax.config.update("jax_enable_x64", True)
    ja, jx = jnp.asarray(a), jnp.asarray(x)

    def f(v: jax.Array) -> jax.Array:
        return jnp.sum(jnp.tanh(ja @ v))

    h = jax.hessian(f)
    hj = jax.jit(h)
    return {
        "jax": lambda: np.asarray(h(jx).block_until_ready()),
        "jax (jit)": lambda: np.asarray(hj(jx).block_until_ready()),
    }


def libraries(a: np.ndarray, x: np.ndarray) -> dict[str, Hessian]:
    libs: dict[str, Hessian] = {
        "numpy": lambda: closed_form(a, x),  # the formula by hand: the floor, no AD
        "chainrule": chainrule_hessian(a, x),
        "chainrule rr": chainrule_hessian(a, x, reverse_over_reverse=True),
    }
    for name, make in (("torch.func", torch_hessian), ("autograd", autograd_hessian)):
        h = make(a, x)
        if h is None:
            print(f"({name} is not installed: skipped)")
        else:
            libs[name] = h
    extra = jax_hessians(a, x)
    if not extra:
        print("(jax is not installed: skipped)")
    libs.update(extra)
    return libs


# ---------------------------------------------------------------- measuring
def check(libs: dict[str, Hessian], expected: np.ndarray, tol: float = 1e-10) -> None:
    """Every library's Hessian must match the closed form (and so each other)."""
    scale = np.abs(expected).max()
    for name, h in libs.items():
        got = h()
        assert got.shape == expected.shape, f"{name}: shape {got.shape}"
        err = np.abs(got - expected).max() / scale
        print(f"  {name:12s} max |H - closed form| / max |H| = {err:.1e}")
        if not err < tol:
            raise SystemExit(f"{name}'s Hessian disagrees with the closed form ({err:.2e})")


def measure(libs: dict[str, Hessian], rounds: int, calls: int) -> dict[str, dict[str, float]]:
    """Seconds per Hessian over ``rounds`` rounds of ``calls`` calls: the median and the
    best round by the wall clock, and the median CPU time of the process (all its
    threads), which a busy machine disturbs less than the wall clock."""
    for h in libs.values():
        for _ in range(3):  # warm up (JIT compiles, caches fill)
            h()
    wall: dict[str, list[float]] = {name: [] for name in libs}
    cpu: dict[str, list[float]] = {name: [] for name in libs}
    for _ in range(rounds):
        for name, h in libs.items():
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(calls):
                h()
            wall[name].append((time.perf_counter() - w0) / calls)
            cpu[name].append((time.process_time() - c0) / calls)
    return {name: {"median": statistics.median(wall[name]), "best": min(wall[name]),
                   "cpu": statistics.median(cpu[name])} for name in libs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="the dimension of x")
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--calls", type=int, default=20, help="Hessians per timed round")
    args = parser.parse_args()
    try:
        from threadpoolctl import threadpool_info

        blas = {i["internal_api"]: i["num_threads"] for i in threadpool_info()}
        print(f"BLAS threads: {blas}")
    except ImportError:
        pass
    a, x = problem(args.n)
    libs = libraries(a, x)
    print(f"\nHessian of sum(tanh(A x)), x in R^{args.n}: agreement")
    check(libs, closed_form(a, x))
    result = measure(libs, args.rounds, args.calls)
    print(f"\ntime per Hessian, ms ({args.rounds} rounds of {args.calls} calls)")
    print(f"  {'':12s} {'median':>9s} {'best':>9s} {'CPU':>9s}   median vs torch.func")
    base = result.get("torch.func")
    for name, r in result.items():
        rel = f"{r['median'] / base['median']:6.2f}x" if base else ""
        print(f"  {name:12s} {r['median'] * 1e3:9.3f} {r['best'] * 1e3:9.3f} "
              f"{r['cpu'] * 1e3:9.3f}   {rel}")
    if base:
        ours = result["chainrule"]
        ratios = ", ".join(f"{ours[k] / base[k]:.2f} ({k})" for k in ("median", "best", "cpu"))
        print(f"\nchainrule / torch.func = {ratios}")

if __name__ == "__main__":
    main()
