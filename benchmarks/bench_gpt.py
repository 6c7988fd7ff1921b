"""One training step of the GPT on names: chainrule next to the same model in PyTorch eager.

The model is the one ``chainrule train --data names`` trains, at its default
size (``chainrule.lm.LMConfig``: n_embd 64, 4 heads, 2 blocks, block size 16,
no biases): token and position embeddings, RMSNorm, pre-norm blocks of causal
``MultiheadAttention`` and a ReLU MLP, a head. PyTorch gets the same model
written with ``torch.nn`` (same module names, so the state dict copies across)
and the same weights. Both train on the same batches of real names (padded
to the longest name in the batch, padding targets ignored), with Adam; a step
is the forward pass, the loss, ``zero_grad``, ``backward`` and ``step``.

The frameworks take turns: each round runs a block of consecutive steps on
each, who goes first alternating, so a change in the machine's load hits both
alike; the median step counts. Run single-threaded, with the machine's
OpenBLAS workarounds lifted for this command only::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        OPENBLAS_NUM_THREADS=1 python benchmarks/bench_gpt.py

``--profile`` adds where chainrule's time goes, per engine op (forward and
each gradient rule) and per function. ``--scalar`` adds microgpt's model on
the scalar engine (``examples/microgpt.py``, every number a ``cr.Value``) next
to the same model, with the same weights, on the tensor engine.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import lm, optim
from chainrule.ops import REGISTRY

HERE = Path(__file__).resolve().parent
PHASES = ("step", "forward", "backward", "Adam")


def torch_gpt(config: lm.LMConfig, vocab_size: int) -> Any:
    """The model of ``chainrule.lm.GPT`` written with torch.nn (the same parameter names)."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, n_embd: int, n_head: int) -> None:
            super().__init__()
            self.norm1 = nn.RMSNorm(n_embd, eps=1e-5)
            self.attn = nn.MultiheadAttention(n_embd, n_head, bias=False, batch_first=True)
            self.norm2 = nn.RMSNorm(n_embd, eps=1e-5)
            self.fc1 = nn.Linear(n_embd, 4 * n_embd, bias=False)
            self.fc2 = nn.Linear(4 * n_embd, n_embd, bias=False)

        def forward(self, x: Any, mask: Any) -> Any:
            h = self.norm1(x)
            x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False, is_causal=True)[0]
            return x + self.fc2(torch.relu(self.fc1(self.norm2(x))))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            e = config.n_embd
            self.wte = nn.Embedding(vocab_size, e)
            self.wpe = nn.Embedding(config.block_size, e)
            self.norm = nn.RMSNorm(e, eps=1e-5)
            self.blocks = nn.ModuleList(Block(e, config.n_head) for _ in range(config.n_layer))
            self.head = nn.Linear(e, vocab_size, bias=False)

        def forward(self, idx: Any) -> Any:
            t = idx.shape[1]
            x = self.norm(self.wte(idx) + self.wpe.weight[:t])
            mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
            for block in self.blocks:
                x = block(x, mask)
            return self.head(x)

    return GPT()


class Runner:
    """A model, its optimizer and one training step, timing each phase."""

    def __init__(self, name: str, step: Callable[[Any, Any], tuple[float, ...]]) -> None:
        self.name = name
        self._step = step
        self.times: dict[str, list[float]] = {p: [] for p in PHASES}
        self.losses: list[float] = []

    def run(self, inputs: Any, targets: Any, record: bool = True) -> None:
        loss, *times = self._step(inputs, targets)
        self.losses.append(loss)
        if record:
            for phase, t in zip(PHASES, [sum(times), *times], strict=True):
                self.times[phase].append(t)


def chainrule_runner(model: lm.GPT, lr: float) -> Runner:
    opt = optim.Adam(model.parameters(), lr=lr)

    def step(inputs: Any, targets: Any) -> tuple[float, ...]:
        t0 = time.perf_counter()
        loss = lm.lm_loss(model, inputs, targets)
        t1 = time.perf_counter()
        opt.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        return float(loss.item()), t1 - t0, t2 - t1, t3 - t2

    return Runner("chainrule", step)


def torch_runner(model: Any, lr: float) -> Runner:
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step(inputs: Any, targets: Any) -> tuple[float, ...]:
        t0 = time.perf_counter()
        logits = model(inputs)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=lm.IGNORE
        )
        t1 = time.perf_counter()
        opt.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        return float(loss.item()), t1 - t0, t2 - t1, t3 - t2

    return Runner("PyTorch", step)


def environment(torch: Any) -> str:
    line = f"Python {sys.version.split()[0]}, numpy {np.__version__}"
    if torch is not None:
        line += f", torch {torch.__version__} ({torch.get_num_threads()} thread)"
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{i['internal_api']} {i.get('architecture', '?')} x{i['num_threads']}"
                for i in threadpool_info()]
        line += f", BLAS: {'; '.join(blas)}"
    except ImportError:
        pass
    return line


def compare(args: argparse.Namespace) -> tuple[lm.GPT, list[tuple[Any, Any]]]:
    config = lm.LMConfig(batch_size=args.batch_size)
    tok = lm.Tokenizer()
    train_names, _ = lm.split_names(config.data, config.val_fraction, config.split_seed)
    data = lm.encode_names(train_names, tok, config.block_size)
    batch_list = list(lm.batches(data, config.batch_size, np.random.default_rng(0)))
    cr.manual_seed(0)
    model = lm.build_model(config, tok.vocab_size)
    n_params = sum(p.numel() for p in model.parameters())
    try:
        import torch
    except ImportError:
        torch = None
    runners = [chainrule_runner(model, config.lr)]
    feeds: list[Callable[[Any, Any], tuple[Any, Any]]] = [lambda i, t: (i, t)]
    if torch is not None:
        torch.set_num_threads(1)
        theirs = torch_gpt(config, tok.vocab_size)
        theirs.load_state_dict({k: torch.from_numpy(np.array(v.data))
                                for k, v in model.state_dict().items()})
        runners.append(torch_runner(theirs, config.lr))
        feeds.append(lambda i, t: (torch.from_numpy(i), torch.from_numpy(t)))
    lengths = [b[0].shape[1] for b in batch_list]
    print(
        f"GPT on names at the default size: n_embd {config.n_embd}, {config.n_head} heads, "
        f"{config.n_layer} blocks, block size {config.block_size}, {n_params:,} parameters; "
        f"a step = one batch of {config.batch_size} names (padded to the batch's longest: "
        f"{min(lengths)}-{max(lengths)} positions, median {statistics.median(lengths):g}), Adam"
    )
    print(environment(torch))
    k = 0
    for r in range(args.rounds):
        order = list(zip(runners, feeds, strict=True))
        for runner, feed in order if r % 2 == 0 else order[::-1]:
            for j in range(args.block):
                inputs, targets = batch_list[(r * args.block + j) % len(batch_list)]
                runner.run(*feed(inputs, targets), record=r > 0)  # round 0 warms up
        k += args.block
    timed = len(runners[0].times["step"])
    if torch is None:
        print("PyTorch is not installed (pip install torch): no comparison")
    else:
        a, b = runners[0].losses, runners[1].losses
        print(
            f"first step's loss (same weights, same batch): chainrule {a[0]:.6f}, PyTorch "
            f"{b[0]:.6f}; after {len(a)} steps: {a[-1]:.4f} and {b[-1]:.4f}"
        )
    print(f"\nmedian of {timed} interleaved steps each ({args.rounds - 1} rounds of {args.block}, "
          f"after a warm-up round):")
    med = {r.name: {p: statistics.median(r.times[p]) for p in PHASES} for r in runners}
    for r in runners:
        m = med[r.name]
        print(f"  {r.name:<10} step {m['step'] * 1e3:6.2f} ms   forward {m['forward'] * 1e3:6.2f} "
              f"ms, backward {m['backward'] * 1e3:6.2f} ms, Adam {m['Adam'] * 1e3:5.2f} ms")
    if torch is not None:
        ratio = med["chainrule"]["step"] / med["PyTorch"]["step"]
        per = [x / y for x, y in zip(runners[0].times["step"], runners[1].times["step"],
                                     strict=True)]
        print(
            f"ratio chainrule / PyTorch: {ratio:.2f}x (medians; step by step: median "
            f"{statistics.median(per):.2f}x, range {min(per):.2f}-{max(per):.2f}x); "
            f"forward {med['chainrule']['forward'] / med['PyTorch']['forward']:.2f}x, backward "
            f"{med['chainrule']['backward'] / med['PyTorch']['backward']:.2f}x, Adam "
            f"{med['chainrule']['Adam'] / med['PyTorch']['Adam']:.2f}x\n"
            f"target: chainrule <= 1.5x PyTorch -> {'met' if ratio <= 1.5 else 'MISSED'}"
        )
    return model, batch_list


@contextmanager
def forward_methods_timed(stats: dict[str, list[float]]) -> Iterator[None]:
    """Time the Tensor operators that run an op's forward themselves (``a + b``, ``a @ b``,
    ``x.relu()``: recording included), which ``bench_cnn.op_profile`` cannot see."""
    ops = {info.op.name for info in REGISTRY.values() if info.op is not None}
    saved = {}
    for attr, fn in list(vars(cr.Tensor).items()):
        if callable(fn) and getattr(fn, "__qualname__", None) in ops:
            saved[attr] = fn

            def timed(*args: Any, _fn: Any = fn, _label: str = f"{fn.__qualname__} forward",
                      **kw: Any) -> Any:
                t0 = time.perf_counter()
                out = _fn(*args, **kw)
                entry = stats[_label]
                entry[0] += time.perf_counter() - t0
                entry[1] += 1
                return out

            setattr(cr.Tensor, attr, timed)
    try:
        yield
    finally:
        for attr, fn in saved.items():
            setattr(cr.Tensor, attr, fn)


def profile(model: lm.GPT, batch_list: list[tuple[Any, Any]], steps: int) -> None:
    """Where chainrule's step goes: each engine op's forward and rules, then by function."""
    import cProfile
    import pstats

    sys.path.insert(0, str(HERE))
    from bench_cnn import op_profile

    runner = chainrule_runner(model, 1e-3)
    with op_profile() as stats, forward_methods_timed(stats):
        t0 = time.perf_counter()
        for inputs, targets in batch_list[:steps]:
            runner.run(inputs, targets)
        wall = time.perf_counter() - t0
    inside = sum(s[0] for s in stats.values())
    forward = sum(s[0] for k, s in stats.items() if k.endswith("forward"))
    print(
        f"\nchainrule by engine op, {steps} steps with a timer around every op "
        f"({wall / steps * 1e3:.2f} ms/step with the timers): the ops' forwards take "
        f"{forward / steps * 1e3:.2f} ms/step, their gradient rules "
        f"{(inside - forward) / steps * 1e3:.2f} ms, the rest (modules, recording, the sweep, "
        f"Adam, the timers) {(wall - inside) / steps * 1e3:.2f} ms"
    )
    for name, (sec, calls) in sorted(stats.items(), key=lambda kv: -kv[1][0])[:20]:
        print(f"  {name:<26} {sec / steps * 1e3:7.3f} ms/step  {calls / steps:5.0f} calls/step  "
              f"{sec / wall:6.1%} of the step")
    prof = cProfile.Profile()
    prof.enable()
    for inputs, targets in batch_list[:steps]:
        runner.run(inputs, targets)
    prof.disable()
    print("\nthe same steps under cProfile (no op timers), by own time (a NumPy ufunc's time "
          "counts as its caller's):")
    pstats.Stats(prof).sort_stats("tottime").print_stats(14)


def scalar_versus_tensor(names: int) -> None:
    """microgpt's model, one name per step: every number a Value, then tensors."""
    spec = importlib.util.spec_from_file_location("microgpt", HERE.parent / "examples" /
                                                  "microgpt.py")
    assert spec is not None and spec.loader is not None
    mg = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mg
    spec.loader.exec_module(mg)
    words = mg.load_dataset(42)
    tok = mg.Tokenizer(words)
    params = mg.init_params(tok.vocab_size, 42)
    flat = [p for m in params.values() for row in m for p in row]
    scalar_opt = mg.Adam(flat)
    # the same model and weights on tensors (float64, so the losses agree to rounding)
    model = lm.GPT(tok.vocab_size, mg.BLOCK_SIZE, mg.N_EMBD, mg.N_HEAD, 1).double()
    w = {k: np.array([[v.data for v in row] for row in m]) for k, m in params.items()}
    model.load_state_dict({**model.state_dict(), "wte.weight": w["wte"], "wpe.weight": w["wpe"],
                           "blocks.0.attn.in_proj_weight": np.concatenate([w["wq"], w["wk"],
                                                                           w["wv"]]),
                           "blocks.0.attn.out_proj.weight": w["wo"], "blocks.0.fc1.weight":
                           w["fc1"], "blocks.0.fc2.weight": w["fc2"], "head.weight": w["head"]})
    # microgpt's RMSNorm has no gain: the tensor model's stay at 1, untrained
    trained = [p for name, p in model.named_parameters() if "norm" not in name]
    tensor_opt = optim.Adam(trained, lr=1e-2, betas=(0.85, 0.99))
    data = lm.encode_names(words, lm.Tokenizer(), mg.BLOCK_SIZE)
    scalar_t, tensor_t, diffs = [], [], []
    for k in range(names):
        t0 = time.perf_counter()
        loss = mg.name_loss(tok.encode(words[k]), params)
        loss.backward()
        scalar_opt.step(lr=1e-2)
        scalar_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        tloss = lm.lm_loss(model, *data.batch(np.array([k])))
        tensor_opt.zero_grad()
        tloss.backward()
        tensor_opt.step()
        tensor_t.append(time.perf_counter() - t0)
        diffs.append(abs(loss.data - tloss.item()))
    batch = np.arange(32)
    batched = []
    for _ in range(names):
        t0 = time.perf_counter()
        tloss = lm.lm_loss(model, *data.batch(batch))
        tensor_opt.zero_grad()
        tloss.backward()
        tensor_opt.step()
        batched.append(time.perf_counter() - t0)
    s, t, b = (statistics.median(x) for x in (scalar_t, tensor_t, batched))
    print(
        f"\nmicrogpt's model (n_embd {mg.N_EMBD}, {mg.N_HEAD} heads, 1 block, "
        f"{len(flat):,} parameters), Adam, {names} names, the same weights in both engines "
        f"(losses agree to {max(diffs):.1e}):\n"
        f"  scalar engine (every number a cr.Value), one name per step  {s * 1e3:8.1f} ms/step"
        f"  {1 / s:8.1f} names/s\n"
        f"  tensor engine, one name per step                            {t * 1e3:8.2f} ms/step"
        f"  {1 / t:8.1f} names/s  ({s / t:.0f}x the scalar engine)\n"
        f"  tensor engine, a batch of 32 names per step                 {b * 1e3:8.2f} ms/step"
        f"  {32 / b:8.1f} names/s  ({32 * s / b:.0f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=21, help="rounds, the first a warm-up")
    parser.add_argument("--block", type=int, default=5, help="consecutive steps per round")
    parser.add_argument("--batch-size", type=int, default=lm.LMConfig().batch_size)
    parser.add_argument("--profile", action="store_true", help="profile chainrule by op")
    parser.add_argument("--profile-steps", type=int, default=50)
    parser.add_argument("--scalar", action="store_true",
                        help="add microgpt's model on the scalar engine beside the tensor engine")
    parser.add_argument("--scalar-names", type=int, default=10)
    args = parser.parse_args()
    if args.rounds < 2 or args.block < 1:
        parser.error("--rounds must be at least 2 and --block at least 1")
    model, batch_list = compare(args)
    if args.profile:
        profile(model, batch_list, args.profile_steps)
    if args.scalar:
        scalar_versus_tensor(args.scalar_names)


if __name__ == "__main__":
    main()
