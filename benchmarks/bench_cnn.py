"""One training epoch of the digits CNN: chainrule next to the same model in PyTorch eager.

Both frameworks train the model of ``chainrule train --model cnn`` (same
weights, copied across before the first epoch) on the same 1,438 training
images in the same shuffled batches of 32, with Adam. Each framework runs
``--epochs`` epochs after one warm-up epoch; the median epoch time counts.

Run single-threaded, with the machine's OpenBLAS workarounds lifted for this
command only::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        OPENBLAS_NUM_THREADS=1 python benchmarks/bench_cnn.py

``--profile`` also prints where chainrule's time goes, per engine op
(forward and backward).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import optim
from chainrule.nn import functional as F
from chainrule.ops import REGISTRY
from chainrule.train import TrainConfig, build_model, digits_split


def batches(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def chainrule_epoch(model: Any, opt: Any, X: np.ndarray, y: np.ndarray, idx: list) -> float:
    model.train()
    for b in idx:
        loss = F.cross_entropy(model(cr.Tensor(X[b])), y[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.item())


def torch_setup(model: Any) -> tuple[Any, Any]:
    import torch
    from torch import nn

    theirs = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(128, 64),
        nn.BatchNorm1d(64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )
    state = {k: torch.from_numpy(np.array(v.data)) for k, v in model.state_dict().items()}
    theirs.load_state_dict(state)
    return theirs, torch.optim.Adam(theirs.parameters(), lr=2e-3)


def torch_epoch(model: Any, opt: Any, X: Any, y: Any, idx: list) -> float:
    import torch.nn.functional as tF

    model.train()
    for b in idx:
        loss = tF.cross_entropy(model(X[b]), y[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.item())


def timed(runs: dict[str, Callable[[list], float]], epochs: list[list]) -> dict[str, Any]:
    """Wall and CPU seconds per epoch of each run, the runs alternating epoch by epoch
    (so a change in the machine's load hits both alike); the first epoch warms up."""
    results: dict[str, Any] = {name: {"wall": [], "cpu": [], "loss": 0.0} for name in runs}
    for k, idx in enumerate(epochs):
        for name, run in runs.items():
            w0, c0 = time.perf_counter(), time.process_time()
            loss = run(idx)
            if k:
                results[name]["wall"].append(time.perf_counter() - w0)
                results[name]["cpu"].append(time.process_time() - c0)
            results[name]["loss"] = loss
    return results


@contextmanager
def op_profile() -> Iterator[dict[str, list[float]]]:
    """Time every engine op's forward and each of its gradient rules, by op name."""
    stats: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])

    def timer(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed_fn(*args: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            out = fn(*args, **kw)
            entry = stats[label]
            entry[0] += time.perf_counter() - t0
            entry[1] += 1
            return out

        return timed_fn

    saved = []
    for info in REGISTRY.values():
        op = info.op
        if op is None:
            continue
        # the sweep runs the rules it finds in rules_for, one table per pattern of
        # inputs needing a gradient; gates and ops of many inputs use vjp_all
        saved.append((op, op.forward, op.rules_for, op.vjps))
        op.forward = timer(f"{op.name} forward", op.forward)
        op.rules_for = {
            needs: tuple((i, timer(f"{op.name} backward[{i}]", r)) for i, r in pairs)
            for needs, pairs in op.rules_for.items()
        }
        if callable(op.vjps):
            op.vjps = timer(f"{op.name} backward", op.vjps)
    try:
        yield stats
    finally:
        for op, forward, rules_for, vjps in saved:
            op.forward, op.rules_for, op.vjps = forward, rules_for, vjps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs (default 5)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--profile", action="store_true", help="profile chainrule by op")
    args = parser.parse_args()

    config = TrainConfig.for_model("cnn", batch_size=args.batch_size)
    X_tr, _, y_tr, _ = digits_split(config)
    epochs = [batches(len(y_tr), args.batch_size, seed) for seed in range(args.epochs + 1)]
    cr.manual_seed(0)
    model = build_model("cnn")

    try:
        import torch
    except ImportError:
        torch = None
    c_opt = optim.Adam(model.parameters(), lr=2e-3)
    runs: dict[str, Callable[[list], float]] = {}
    if torch is not None:
        torch.set_num_threads(1)
        t_model, t_opt = torch_setup(model)
        Xt, yt = torch.from_numpy(X_tr), torch.from_numpy(y_tr)
        runs["PyTorch"] = lambda idx: torch_epoch(t_model, t_opt, Xt, yt, idx)
    runs["chainrule"] = lambda idx: chainrule_epoch(model, c_opt, X_tr, y_tr, idx)
    results = timed(runs, epochs)

    steps = len(epochs[0])
    print(f"digits CNN, one epoch = {steps} steps of batch {args.batch_size} ({len(y_tr)} images)")
    print(f"numpy {np.__version__}", end="")
    if torch is not None:
        print(f", torch {torch.__version__} ({torch.get_num_threads()} thread)", end="")
    try:
        from threadpoolctl import threadpool_info

        blas = [
            f"{i['internal_api']} {i.get('architecture', '?')} x{i['num_threads']}"
            for i in threadpool_info()
        ]
        print(f", BLAS: {'; '.join(blas)}", end="")
    except ImportError:
        pass
    print()
    median = {
        name: {k: statistics.median(r[k]) for k in ("wall", "cpu")} for name, r in results.items()
    }
    for name, r in results.items():
        print(
            f"{name:<10} {median[name]['wall'] * 1e3:7.1f} ms/epoch wall, "
            f"{median[name]['cpu'] * 1e3:7.1f} ms CPU (medians of {len(r['wall'])}), "
            f"last loss {r['loss']:.4f}"
        )
    if torch is None:
        print("PyTorch is not installed: no comparison")
    else:
        ours, theirs = median["chainrule"], median["PyTorch"]
        print(
            f"ratio chainrule / PyTorch: {ours['wall'] / theirs['wall']:.2f}x wall, "
            f"{ours['cpu'] / theirs['cpu']:.2f}x CPU"
        )

    if args.profile:
        import cProfile
        import pstats

        with op_profile() as stats:
            prof = cProfile.Profile()
            prof.enable()
            chainrule_epoch(model, c_opt, X_tr, y_tr, epochs[0])
            prof.disable()
        total = sum(s[0] for s in stats.values())
        print(f"\nchainrule time by engine op (one epoch, {total * 1e3:.1f} ms inside ops):")
        for name, (sec, calls) in sorted(stats.items(), key=lambda kv: -kv[1][0])[:14]:
            print(f"  {name:<24} {sec * 1e3:8.1f} ms  {calls:6d} calls")
        print("\nthe same epoch under cProfile, by own time:")
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
