"""Forward mode against reverse mode, measured.

Forward mode pushes a *tangent* (how one input direction moves every node)
from the inputs to the outputs: one sweep gives one column of the Jacobian.
Reverse mode pulls a *cotangent* (how every node moves one output) from the
outputs back to the inputs: one sweep gives one row. So for

    f: Rⁿ → R   (many inputs, one output: a loss)    reverse mode wins,
    g: R → Rⁿ   (one input, many outputs: a curve)   forward mode wins.

Part 1 counts the sweeps each way, one column (or row) at a time with
``cr.jvp`` / ``cr.vjp`` and batched with ``cr.jacfwd`` / ``cr.jacrev``
(which push all the columns, or rows, through a single sweep on a leading
batch axis), and times them. Part 2 is the path-factoring example: the sum
over every path of a graph, the factored product, and both modes give the
same number.

Run: ``python examples/forward_vs_reverse.py`` (``--quick`` for n up to 100).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import itertools
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import chainrule as cr

# ---------------------------------------------------------------- counting sweeps
# The transforms start every reverse sweep through ``sweep`` and every forward
# sweep by opening a forward level; counting those calls counts the sweeps.
_func: Any = importlib.import_module("chainrule.func")
_mode: Any = importlib.import_module("chainrule.engine.mode")


class Sweeps:
    def __init__(self) -> None:
        self.forward = 0
        self.reverse = 0
        self.vectors = 0  # tangents or cotangents carried, over all the sweeps

    def __str__(self) -> str:
        kinds = [f"{n} {kind}" for n, kind in ((self.forward, "fwd"), (self.reverse, "rev")) if n]
        return " + ".join(kinds) + f" ({self.vectors} vec)"


def _batch(t: Any, primal: Any) -> int:
    """How many vectors ``t`` stacks on leading axes beyond the shape of ``primal``."""
    extra = np.ndim(t) - np.ndim(primal)
    return int(np.prod(np.shape(t)[:extra]))


@contextlib.contextmanager
def counting() -> Iterator[Sweeps]:
    sweeps = Sweeps()
    sweep, forward_level, with_tangents = (
        _func.sweep, _mode.forward_level, _func._with_tangents)

    def counted_sweep(root: Any, seed: Any, *args: Any, **kw: Any) -> Any:
        sweeps.reverse += 1
        sweeps.vectors += _batch(seed, root)
        return sweep(root, seed, *args, **kw)

    @contextlib.contextmanager
    def counted_level() -> Iterator[int]:
        sweeps.forward += 1
        with forward_level() as level:
            yield level

    def counted_tangents(args: Any, nums: Any, tangents: Any, *rest: Any) -> Any:
        nums = list(nums)
        sweeps.vectors += _batch(tangents[0], args[nums[0]])
        return with_tangents(args, nums, tangents, *rest)

    _func.sweep, _mode.forward_level = counted_sweep, counted_level
    _func._with_tangents = counted_tangents
    try:
        yield sweeps
    finally:
        _func.sweep, _mode.forward_level = sweep, forward_level
        _func._with_tangents = with_tangents


def timed(fn: Callable[[], Any], budget: float = 0.3) -> float:
    """Seconds per call: the best of at least 3 calls (about ``budget`` seconds in all).
    The best, as ``timeit`` advises: on a busy machine the others measure the machine."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < 50):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# ---------------------------------------------------------------- part 1
def many_to_one(x: Any) -> Any:
    """f: Rⁿ → R, f(x) = Σ sin(xᵢ)·exp(-xᵢ²/2) + (Σ xᵢ)²/n."""
    return (cr.sin(x) * cr.exp(-0.5 * x * x)).sum() + x.sum() ** 2 / x.shape[0]


def one_to_many(n: int) -> Callable[[Any], Any]:
    """g: R → Rⁿ, g(t)ₖ = sin(k·t)·exp(-t/(k+1)), k = 0..n-1."""
    k = np.arange(n, dtype=np.float64)

    def g(t: Any) -> Any:
        return cr.sin(t * k) * cr.exp(t * (-1.0 / (k + 1)))

    return g


def unit(n: int, i: int) -> np.ndarray:
    e = np.zeros(n)
    e[i] = 1.0
    return e


def jacobian_by_columns(f: Callable[[Any], Any], x: np.ndarray) -> np.ndarray:
    """One jvp (forward sweep) per input: column i is J·eᵢ."""
    cols = [cr.jvp(f, (x,), (unit(x.size, i),))[1].numpy() for i in range(x.size)]
    return np.stack(cols, axis=-1).reshape(np.shape(cols[0]) + x.shape)


def jacobian_by_rows(f: Callable[[Any], Any], x: np.ndarray) -> np.ndarray:
    """One vjp (reverse sweep) per output: row j is eⱼᵀ·J."""
    out, vjp_fn = cr.vjp(f, x)
    m = max(out.numel(), 1)
    rows = [vjp_fn(unit(m, j).reshape(out.shape))[0].numpy() for j in range(m)]
    return np.stack(rows).reshape(out.shape + x.shape)


WAYS: dict[str, Callable[[Callable[[Any], Any], np.ndarray], Any]] = {
    "jvp per column": jacobian_by_columns,
    "vjp per row": jacobian_by_rows,
    "jacfwd": lambda f, x: cr.jacfwd(f)(x).numpy(),
    "jacrev": lambda f, x: cr.jacrev(f)(x).numpy(),
}


def run_all_ways(f: Callable[[Any], Any], x: np.ndarray, time_them: bool = True
                 ) -> dict[str, tuple[Sweeps, float]]:
    """Each way's sweeps and median seconds for the whole Jacobian of ``f`` at ``x``."""
    results, out = [], {}
    for name, way in WAYS.items():
        with counting() as sweeps:
            results.append(way(f, x))
        seconds = timed(lambda: way(f, x)) if time_them else float("nan")  # noqa: B023
        out[name] = (sweeps, seconds)
    for r in results[1:]:  # every way gives the same Jacobian
        assert np.allclose(r, results[0], atol=1e-10), "the Jacobians disagree"
    return out


def compare(title: str, make: Callable[[int], tuple[Callable[[Any], Any], np.ndarray]],
            sizes: list[int]) -> None:
    rows = [["n", *WAYS]]
    for n in sizes:
        ways = run_all_ways(*make(n))
        rows.append([str(n)] + [f"{sw}, {sec * 1e3:.2f} ms" for sw, sec in ways.values()])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(f"\n{title}\n")
    for k, r in enumerate(rows):
        print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |")
        if k == 0:
            print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")


def part_one(sizes: list[int]) -> None:
    print("Part 1: sweeps and time to get the whole Jacobian")
    print("=" * 50)
    print("fwd / rev: forward / reverse sweeps run; vec: tangent or cotangent vectors")
    print("carried in all (jacfwd / jacrev carry them together, in one sweep); time:")
    print("the best of several runs, per whole Jacobian")
    rng = np.random.default_rng(0)
    compare("f: R^n -> R (one output): its gradient, a 1 x n Jacobian",
            lambda n: (many_to_one, rng.standard_normal(n)), sizes)
    compare("g: R -> R^n (one input): its derivative, an n x 1 Jacobian",
            lambda n: (one_to_many(n), np.array([0.7])), sizes)
    print("\nOne vector at a time, f needs n forward sweeps but 1 reverse sweep, and g")
    print("the opposite. Batched, each Jacobian is one sweep either way, but the sweep")
    print("in the wrong direction carries n vectors through every op instead of one,")
    print("so its cost still grows with n while the right direction's does not.")


# ---------------------------------------------------------------- part 2
def part_two(depth: int) -> None:
    print("\nPart 2: summing over paths, and factoring them")
    print("=" * 46)
    print("""
    X --alpha--> Y --delta--> Z        Y = sin X + X^2 + 3X       (three edges X -> Y)
      --beta---> Y --eps----> Z        Z = exp Y + Y^3 + Y/2      (three edges Y -> Z)
      --gamma--> Y --zeta---> Z
""")
    x0 = 0.4
    y0 = math.sin(x0) + x0 ** 2 + 3 * x0
    edges_xy = {"alpha": math.cos(x0), "beta": 2 * x0, "gamma": 3.0}  # d(sin X), d(X^2), d(3X)
    edges_yz = {"delta": math.exp(y0), "eps": 3 * y0 ** 2, "zeta": 0.5}  # d(exp Y), d(Y^3), d(Y/2)
    for name, v in {**edges_xy, **edges_yz}.items():
        print(f"  {name:6s} = {v:10.6f}")

    paths = [(a, d, edges_xy[a] * edges_yz[d]) for a in edges_xy for d in edges_yz]
    print("\n  the nine paths X -> Z, each the product of its edges:")
    for a, d, p in paths:
        print(f"    {a:>5s} * {d:<5s} = {p:10.6f}")
    by_paths = sum(p for _, _, p in paths)
    factored = sum(edges_xy.values()) * sum(edges_yz.values())

    def z_of(x: Any) -> Any:
        y = cr.sin(x) + x ** 2 + 3.0 * x
        return cr.exp(y) + y ** 3 + y * 0.5

    _, forward = cr.jvp(z_of, (x0,), (1.0,))  # one forward sweep: dX = 1 pushed to Z
    reverse = cr.grad(z_of)(x0)  # one reverse sweep: dZ = 1 pulled back to X
    print()
    print(f"  sum over the 9 paths                     dZ/dX = {by_paths:.12f}")
    print(f"  (alpha+beta+gamma) * (delta+eps+zeta)    dZ/dX = {factored:.12f}")
    print(f"  forward mode: cr.jvp, tangent dX = 1     dZ/dX = {forward.item():.12f}")
    print(f"  reverse mode: cr.grad, cotangent dZ = 1  dZ/dX = {reverse.item():.12f}")
    assert all(math.isclose(v, by_paths, rel_tol=1e-12)
               for v in (factored, forward.item(), reverse.item()))

    print(f"""
  Stacking k such stages (each three edges wide) gives 3^k paths, while forward
  and reverse mode merge the paths at every node and touch each of the 3k edges
  once. Stage s maps v to sin v + v^2/{depth} + v/(s+1); the path sum is done by
  brute force (while that is still quick).
""")
    print(f"  {'k':>3s} {'paths':>10s} {'edges':>6s} {'sum over paths':>18s} "
          f"{'forward (jvp)':>18s} {'reverse (grad)':>18s}")

    def stage(s: int, v: Any) -> Any:
        return cr.sin(v) + v ** 2 / depth + v * (1.0 / (s + 1))

    for k in range(1, depth + 1):
        def chain(x: Any, k: int = k) -> Any:
            for s in range(k):
                x = stage(s, x)
            return x

        values, per_stage = [0.3], []  # the value entering each stage, its 3 edges
        for s in range(k):
            v = values[-1]
            per_stage.append((math.cos(v), 2 * v / depth, 1.0 / (s + 1)))
            values.append(math.sin(v) + v * v / depth + v / (s + 1))
        if k <= 9:
            total = sum(math.prod(p) for p in itertools.product(*per_stage))
            brute = f"{total:18.12f}"
        else:
            brute = f"{'(skipped)':>18s}"
        fwd = cr.jvp(chain, (0.3,), (1.0,))[1].item()
        rev = cr.grad(chain)(0.3).item()
        assert math.isclose(fwd, rev, rel_tol=1e-12)
        print(f"  {k:>3d} {3 ** k:>10d} {3 * k:>6d} {brute} {fwd:18.12f} {rev:18.12f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n up to 100 only")
    args = parser.parse_args()
    part_one([1, 10, 100] if args.quick else [1, 10, 100, 1000])
    part_two(depth=12)


if __name__ == "__main__":
    main()
