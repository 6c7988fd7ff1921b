"""One training step of microgpt, a GPT made of scalars, on two scalar engines.

microgpt (A. Karpathy, February 2026) trains a character-level GPT on a list
of names with nothing but a micrograd-style scalar ``Value``: every weight,
activation and gradient is one Python object. This benchmark times one of its
training steps on

* a reference engine written here as microgpt's ``Value`` is: a node keeps
  ``data``, ``grad``, a tuple of children and a tuple of local gradients;
  ``-``, ``/``, negation and the reflected operators are built from ``+``,
  ``*`` and ``**``; ``backward()`` sorts the graph with a recursive
  depth-first search and a visited set;
* chainrule's ``Value`` (``cr.Value``).

The model and the step are written once, below, over any Value class, so both
engines run the same code from the same weights:

* vocabulary: the 26 letters of the names plus one token, BOS, that marks
  both the start and the end of a name;
* token and position embeddings (block size 16, 16 dimensions), RMSNorm of
  their sum; one transformer layer: RMSNorm, 4-head causal self-attention
  fed one token at a time with a cache of keys and values, a residual,
  RMSNorm, a ReLU MLP 16 → 64 → 16, a residual; then the output head. No
  biases. Weights drawn once from N(0, 0.08²) with a seeded generator;
* loss: the mean cross-entropy of predicting each next character of one
  name (BOS, the letters, BOS), then ``backward()``;
* Adam over every parameter with a constant learning rate 1e-2, betas
  (0.85, 0.99) as microgpt uses them, eps 1e-8 and bias correction; the
  gradients are then reset to 0.

Step k trains on the k-th name of the 1990 US Census first names
(``cr.data.load_names()``, shuffled with a fixed seed), on both engines, and
the losses must agree to 1e-9 at every step or the script stops. Python's
cycle collector stays on, as users run it. The engines take turns: each round
runs a block of consecutive steps per engine (who goes first alternates), as a
training loop runs them, because the reference leaves each step's graph to the
cycle collector and the next steps of the same engine must pay for it (see
``run_block``; ``--block 1`` alternates single steps instead).

It prints the median step time of each engine and the ratio, where each
engine's step goes (forward, backward, Adam, freeing the graph, and the time
in the cycle collector within those), graph nodes per step, and the forward
of the same model on a Value that records no graph: the floor for any engine
that makes one Python object per number. ``--profile`` adds a cProfile of
chainrule's steps, by part and by function.

Run:  python benchmarks/bench_microgpt.py [--rounds 20] [--block 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import pstats
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import chainrule as cr


# -- the reference engine: a microgpt-style scalar Value ---------------------
class RefValue:
    """A scalar that remembers its children and its local gradient to each."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(
        self, data: float, children: tuple[Any, ...] = (), local_grads: tuple[float, ...] = ()
    ) -> None:
        self.data = data
        self.grad = 0.0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other: Any) -> RefValue:
        other = other if isinstance(other, RefValue) else RefValue(other)
        return RefValue(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other: Any) -> RefValue:
        other = other if isinstance(other, RefValue) else RefValue(other)
        return RefValue(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, exponent: float) -> RefValue:
        x = self.data
        return RefValue(x**exponent, (self,), (exponent * x ** (exponent - 1),))

    def log(self) -> RefValue:
        return RefValue(math.log(self.data), (self,), (1.0 / self.data,))

    def exp(self) -> RefValue:
        out = math.exp(self.data)
        return RefValue(out, (self,), (out,))

    def relu(self) -> RefValue:
        x = self.data
        return RefValue(x if x > 0 else 0.0, (self,), (1.0 if x > 0 else 0.0,))

    # the rest, derived from the gates above
    def __neg__(self) -> RefValue:
        return self * -1.0

    def __radd__(self, other: Any) -> RefValue:
        return self + other

    def __sub__(self, other: Any) -> RefValue:
        return self + (-other)

    def __rsub__(self, other: Any) -> RefValue:
        return other + (-self)

    def __rmul__(self, other: Any) -> RefValue:
        return self * other

    def __truediv__(self, other: Any) -> RefValue:
        return self * other**-1

    def __rtruediv__(self, other: Any) -> RefValue:
        return other * self**-1

    def backward(self) -> None:
        order: list[RefValue] = []
        visited: set[RefValue] = set()

        def visit(node: RefValue) -> None:
            if node not in visited:
                visited.add(node)
                for child in node._children:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            for child, local_grad in zip(node._children, node._local_grads, strict=True):
                child.grad += local_grad * node.grad


class NoGraphValue:
    """A Value that computes and records nothing else: the forward's floor."""

    __slots__ = ("data",)

    def __init__(self, data: float) -> None:
        self.data = data

    def __add__(self, other: Any) -> NoGraphValue:
        return NoGraphValue(self.data + (other.data if type(other) is NoGraphValue else other))

    __radd__ = __add__

    def __mul__(self, other: Any) -> NoGraphValue:
        return NoGraphValue(self.data * (other.data if type(other) is NoGraphValue else other))

    __rmul__ = __mul__

    def __sub__(self, other: Any) -> NoGraphValue:
        return NoGraphValue(self.data - (other.data if type(other) is NoGraphValue else other))

    def __truediv__(self, other: Any) -> NoGraphValue:
        return NoGraphValue(self.data / (other.data if type(other) is NoGraphValue else other))

    def __neg__(self) -> NoGraphValue:
        return NoGraphValue(-self.data)

    def __pow__(self, exponent: float) -> NoGraphValue:
        return NoGraphValue(self.data**exponent)

    def log(self) -> NoGraphValue:
        return NoGraphValue(math.log(self.data))

    def exp(self) -> NoGraphValue:
        return NoGraphValue(math.exp(self.data))

    def relu(self) -> NoGraphValue:
        return NoGraphValue(self.data if self.data > 0 else 0.0)


# -- the model, written once over any Value class ----------------------------
@dataclass(frozen=True)
class Config:
    vocab_size: int
    n_embd: int = 16
    n_head: int = 4
    block_size: int = 16
    n_hidden: int = 64  # the MLP's hidden width


Matrix = list[list[float]]


def init_weights(config: Config, seed: int, std: float = 0.08) -> dict[str, Matrix]:
    """Every weight matrix as plain floats, rows = outputs (no biases)."""
    rng = random.Random(seed)
    d, h, v = config.n_embd, config.n_hidden, config.vocab_size
    shapes = {
        "wte": (v, d),  # token embedding, one row per token
        "wpe": (config.block_size, d),  # position embedding
        "wq": (d, d),
        "wk": (d, d),
        "wv": (d, d),
        "wo": (d, d),
        "fc1": (h, d),
        "fc2": (d, h),
        "head": (v, d),  # the output head: one row of logits weights per token
    }
    return {
        name: [[rng.gauss(0.0, std) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in shapes.items()
    }


def linear(x: Sequence[Any], w: Sequence[Sequence[Any]]) -> list[Any]:
    return [sum(wi * xi for wi, xi in zip(row, x, strict=True)) for row in w]


def rmsnorm(x: Sequence[Any]) -> list[Any]:
    mean_square = sum(xi * xi for xi in x) / len(x)
    scale = (mean_square + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def softmax(logits: Sequence[Any]) -> list[Any]:
    top = max(v.data for v in logits)  # a number: shifting by it changes no gradient
    exps = [(v - top).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


class GPT:
    """microgpt's model: one transformer layer over characters, one Value per number."""

    def __init__(self, value: Callable[[float], Any], weights: dict[str, Matrix], config: Config):
        self.config = config
        self.w = {name: [[value(x) for x in row] for row in m] for name, m in weights.items()}

    def parameters(self) -> list[Any]:
        return [p for m in self.w.values() for row in m for p in row]

    def forward(self, token: int, pos: int, keys: list[Any], values: list[Any]) -> list[Any]:
        """The logits for the token after ``token``; appends to the key/value cache."""
        w, n_head = self.w, self.config.n_head
        head_dim = self.config.n_embd // n_head
        x = [t + p for t, p in zip(w["wte"][token], w["wpe"][pos], strict=True)]
        x = rmsnorm(x)
        # attention: this position's query against the keys of every position so far
        residual = x
        x = rmsnorm(x)
        q = linear(x, w["wq"])
        keys.append(linear(x, w["wk"]))
        values.append(linear(x, w["wv"]))
        attended: list[Any] = []
        for lo in range(0, n_head * head_dim, head_dim):  # each head: its slice of the vectors
            hi = lo + head_dim
            q_h = q[lo:hi]
            scores = [
                sum(qi * ki for qi, ki in zip(q_h, k[lo:hi], strict=True)) / head_dim**0.5
                for k in keys
            ]
            weights = softmax(scores)
            attended += [
                sum(a * v[j] for a, v in zip(weights, values, strict=True)) for j in range(lo, hi)
            ]
        x = [a + r for a, r in zip(linear(attended, w["wo"]), residual, strict=True)]
        # MLP
        residual = x
        x = [hi.relu() for hi in linear(rmsnorm(x), w["fc1"])]
        x = [a + r for a, r in zip(linear(x, w["fc2"]), residual, strict=True)]
        return linear(x, w["head"])

    def loss(self, tokens: Sequence[int]) -> Any:
        """Mean cross-entropy of predicting each next token of one name."""
        n = min(self.config.block_size, len(tokens) - 1)
        keys: list[Any] = []
        values: list[Any] = []
        losses = []
        for pos in range(n):
            probs = softmax(self.forward(tokens[pos], pos, keys, values))
            losses.append(-probs[tokens[pos + 1]].log())
        return (1.0 / n) * sum(losses)


class Adam:
    """Adam with bias correction, on any Value's ``data`` and ``grad``."""

    def __init__(
        self,
        params: list[Any],
        lr: float = 1e-2,
        betas: tuple[float, float] = (0.85, 0.99),
        eps: float = 1e-8,
    ) -> None:
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [0.0] * len(params)
        self.v = [0.0] * len(params)
        self.t = 0

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            g = p.grad
            m[i] = b1 * m[i] + (1.0 - b1) * g
            v[i] = b2 * v[i] + (1.0 - b2) * g * g
            p.data -= self.lr * (m[i] / c1) / ((v[i] / c2) ** 0.5 + self.eps)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0


class Tokenizer:
    """Characters to token ids: one id per letter seen, then BOS (start and end)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.chars = sorted(set("".join(names)))
        self.bos = len(self.chars)
        self.vocab_size = len(self.chars) + 1
        self.ids = {c: i for i, c in enumerate(self.chars)}

    def encode(self, name: str) -> list[int]:
        return [self.bos, *(self.ids[c] for c in name), self.bos]


def training_names(seed: int) -> list[str]:
    names = cr.data.load_names()
    random.Random(seed).shuffle(names)
    return names


# -- timing -------------------------------------------------------------------
PHASES = ("step", "forward", "backward", "Adam", "free", "collector")


class CollectorClock:
    """Time spent in Python's cycle collector, and collections per generation."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self.by_generation = [0.0, 0.0, 0.0]  # seconds
        self._start = 0.0

    def start(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            elapsed = time.perf_counter() - self._start
            self.seconds += elapsed
            self.collections[info["generation"]] += 1
            self.by_generation[info["generation"]] += elapsed


CLOCK = CollectorClock()  # main() starts it


class Engine:
    """A model and its optimizer on one Value class, timing each phase of a step."""

    def __init__(
        self, name: str, value: Callable[[float], Any], weights: dict[str, Matrix], config: Config
    ) -> None:
        self.name = name
        self.model = GPT(value, weights, config)
        self.optimizer = Adam(self.model.parameters())
        self.phases: dict[str, list[float]] = {phase: [] for phase in PHASES}
        self.collections = [0, 0, 0]  # over the timed steps, per generation
        self.collector_seconds = [0.0, 0.0, 0.0]  # likewise

    def step(self, tokens: Sequence[int], record: bool = True) -> float:
        """One training step on one name; returns the loss before the update."""
        gc0, counts, seconds = CLOCK.seconds, CLOCK.collections[:], CLOCK.by_generation[:]
        t0 = time.perf_counter()
        loss = self.model.loss(tokens)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        self.optimizer.step()
        self.optimizer.zero_grad()
        t3 = time.perf_counter()
        value = float(loss.data)
        del loss  # the last reference to the graph, as at the end of a loop's iteration
        t4 = time.perf_counter()
        if record:
            dts = (t4 - t0, t1 - t0, t2 - t1, t3 - t2, t4 - t3, CLOCK.seconds - gc0)
            for phase, dt in zip(PHASES, dts, strict=True):
                self.phases[phase].append(dt)
            for g in range(3):
                self.collections[g] += CLOCK.collections[g] - counts[g]
                self.collector_seconds[g] += CLOCK.by_generation[g] - seconds[g]
        return value


def run_block(engine: Engine, batch: Sequence[Sequence[int]]) -> list[float]:
    """Consecutive steps, as a training loop runs them; the first is timed only if alone.

    The reference's ``backward()`` leaves a reference cycle (its recursive
    inner function refers to itself and holds the visited set), so its graph
    is freed by the cycle collector at some later collection, not when the
    loss is dropped. In a training loop that cost lands in the next steps of
    the same engine; consecutive steps keep it there. The heap is cleaned
    (untimed) before each block so that no engine pays for another's garbage,
    and the block's first step, which then pays for no earlier step's
    garbage, is a warm-up. A block of one step is timed, with no cleaning:
    there the collector frees garbage wherever it next runs.
    """
    if len(batch) > 1:
        gc.collect()
    return [engine.step(tokens, record=i > 0 or len(batch) == 1) for i, tokens in enumerate(batch)]


def count_nodes(root: Any, children: Callable[[Any], Iterable[Any]]) -> Counter[str]:
    """Nodes reachable from ``root``, by gate for chainrule's (``Value.op``)."""
    seen = {id(root)}
    todo = [root]
    kinds: Counter[str] = Counter()
    while todo:
        node = todo.pop()
        kinds[node.op if isinstance(node, cr.Value) else "node"] += 1
        for child in children(node):
            if id(child) not in seen:
                seen.add(id(child))
                todo.append(child)
    return kinds


def profile_chainrule(
    weights: dict[str, Matrix], config: Config, batch: list[list[int]], top: int
) -> None:
    """cProfile over chainrule's steps: where its time goes, by part and by function.

    The cycle collector is off while the profiler runs (its time, measured
    without the profiler, is in the table above). A built-in's time (``sum``,
    ``object.__new__``, ``list.append``...) goes to the part that called it,
    split as the profiler saw its callers.
    """
    engine = Engine("chainrule", cr.Value, weights, config)
    engine.step(batch[0], record=False)
    profiler = cProfile.Profile()
    gc.collect()
    gc.disable()  # the collector would charge its work to whichever call allocates
    try:
        for tokens in batch:
            profiler.enable()
            engine.step(tokens)
            profiler.disable()
            gc.collect()
    finally:
        gc.enable()
    raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    here = GPT.forward.__code__.co_filename
    adam = {(f.__code__.co_firstlineno, f.__name__) for f in (Adam.step, Adam.zero_grad)}
    step = (Engine.step.__code__.co_firstlineno, "step")

    def part(filename: str, line: int, function: str) -> str:
        if filename.startswith("<chainrule gate"):
            return "forward: chainrule's gates (generated Value operators)"
        if "chainrule" in filename:
            if function in ("toposort", "_inputs_resetting_grad"):
                return "backward: topological sort"
            if function == "backward":
                return "backward: the sweep"
            return "forward: numbers made constants, other chainrule code"
        if filename == here and (line, function) in adam:
            return "Adam"
        if filename == here and (line, function) == step:
            return "freeing the graph (del loss, in the step)"
        if filename == here:
            return "forward: model code (comprehensions, generators, sum)"
        return "other"

    parts: Counter[str] = Counter()
    rows = []
    for (filename, line, function), (_cc, ncalls, tt, ct, callers) in raw.items():
        rows.append((tt, ct, ncalls, f"{filename.rsplit('/', 1)[-1]}:{line}({function})"))
        if filename != "~" or not callers:
            parts[part(filename, line, function)] += tt
            continue
        called = sum(c[2] for c in callers.values()) or 1.0
        for (c_file, c_line, c_function), c in callers.items():  # a built-in: to its callers
            caller = (c_file, c_line, c_function)
            if c_file == "~":  # e.g. sum() calling a gate's __radd__: to sum's caller
                caller = next(iter(raw[caller][4]), caller)
            parts[part(*caller)] += tt * c[2] / called
    total = sum(parts.values())
    n = len(batch)
    print(
        f"\ncProfile of {n} chainrule steps, without the cycle collector (the profiler "
        f"inflates each call; read shares):"
    )
    for name, tt in parts.most_common():
        print(f"  {tt / total:5.1%}  {tt / n * 1e3:6.1f} ms/step  {name}")
    print(f"\n  top {top} functions by self time, per step:")
    print(f"  {'self':>8} {'cumul.':>8} {'calls':>8}  function")
    for tt, ct, ncalls, where in sorted(rows, reverse=True)[:top]:
        print(f"  {tt / n * 1e3:5.1f} ms {ct / n * 1e3:5.1f} ms {ncalls / n:8.0f}  {where}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds of blocks per engine")
    parser.add_argument(
        "--block",
        type=int,
        default=3,
        help="consecutive steps per engine per round, the first a warm-up (default 3); "
        "1 alternates single steps, all timed, with no cleaning between engines",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profile", action="store_true", help="add a cProfile of chainrule")
    parser.add_argument("--profile-steps", type=int, default=20, help="steps under cProfile")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.block < 1:
        parser.error("--rounds and --block must be at least 1")

    names = training_names(args.seed)
    tokenizer = Tokenizer(names)
    config = Config(vocab_size=tokenizer.vocab_size)
    weights = init_weights(config, args.seed)
    ref = Engine("reference (microgpt-style Value)", RefValue, weights, config)
    ours = Engine("chainrule Value", cr.Value, weights, config)
    floor = GPT(NoGraphValue, weights, config)
    batch = [tokenizer.encode(names[k % len(names)]) for k in range(args.rounds * args.block)]

    losses: dict[str, list[float]] = {ref.name: [], ours.name: []}
    CLOCK.start()
    for r in range(args.rounds):
        block = batch[r * args.block : (r + 1) * args.block]
        for engine in (ref, ours) if r % 2 == 0 else (ours, ref):  # who goes first alternates
            losses[engine.name] += run_block(engine, block)
    for k, (a, b) in enumerate(zip(losses[ref.name], losses[ours.name], strict=True)):
        if not abs(a - b) <= 1e-9:
            print(
                f"step {k + 1}: the losses disagree, {a!r} (reference) vs {b!r} (chainrule)",
                file=sys.stderr,
            )
            return 1
    timed = [t for k, t in enumerate(batch) if k % args.block or args.block == 1]

    # untimed, on the names of the timed steps: graph sizes, and the forward floor
    our_nodes = [count_nodes(ours.model.loss(t), lambda v: v.inputs) for t in timed]
    ref_nodes = [sum(count_nodes(ref.model.loss(t), lambda v: v._children).values()) for t in timed]
    kinds = sum(our_nodes, Counter())
    n_ours = statistics.median(sum(c.values()) for c in our_nodes)
    n_ref = statistics.median(ref_nodes)
    floor_times = []
    for t in timed:
        start = time.perf_counter()
        floor.loss(t)
        floor_times.append(time.perf_counter() - start)

    loss = losses[ours.name]
    print(
        f"Python {sys.version.split()[0]}, chainrule {cr.__version__}, gc on: {args.rounds} rounds,"
        f" each {args.block} consecutive steps per engine"
        + (" (the first a warm-up)" if args.block > 1 else "")
        + f", {len(timed)} timed steps per engine.\n"
        f"Model: vocab {config.vocab_size}, n_embd {config.n_embd}, {config.n_head} heads, "
        f"block {config.block_size}, MLP {config.n_embd}->{config.n_hidden}->{config.n_embd}, "
        f"{len(ours.model.parameters())} parameters; Adam lr 1e-2, betas (0.85, 0.99), eps 1e-8.\n"
        f"Loss: {loss[0]:.4f} at step 1 (ln {config.vocab_size} = "
        f"{math.log(config.vocab_size):.4f}), {loss[-1]:.4f} at step {len(loss)}; the two "
        f"engines agree to 1e-9 at every step.\n"
        f"Graph per step (median over the timed names): {n_ours:.0f} nodes in chainrule, "
        f"{n_ref:.0f} in the reference."
    )
    total = sum(kinds.values())
    names_of = {"": "parameter", "const": "constant"}
    print(
        "chainrule's nodes by gate: "
        + ", ".join(f"{names_of.get(op, op)} {c / total:.1%}" for op, c in kinds.most_common())
    )

    med = {e.name: {p: statistics.median(e.phases[p]) for p in PHASES} for e in (ref, ours)}
    mean = {e.name: {p: statistics.fmean(e.phases[p]) for p in PHASES} for e in (ref, ours)}
    width = max(len(ref.name), 30)
    heads = ("step", "forward", "backward", "Adam", "free", "collector")
    print(
        f"\n{'median of each phase':<{width}}  "
        + "  ".join(f"{h:>9}" for h in heads)
        + "  step, mean  per node"
    )
    for e, n in ((ref, n_ref), (ours, n_ours)):
        m = med[e.name]
        print(
            f"{e.name:<{width}}  "
            + "  ".join(f"{m[p] * 1e3:6.1f} ms" for p in PHASES)
            + f"  {mean[e.name]['step'] * 1e3:6.1f} ms  {m['step'] / n * 1e9:5.0f} ns"
        )
    print(
        f"{'no-graph Value (forward floor)':<{width}}  {'':>9}  "
        f"{statistics.median(floor_times) * 1e3:6.1f} ms"
    )
    print(
        "\n'free': dropping the loss, which frees chainrule's graph; the reference's graph is "
        "held by a reference cycle and freed later by the cycle collector.\n'collector': time "
        "in the cycle collector, already counted in the other phases. Per step, on average:"
    )
    for e in (ref, ours):
        print(
            f"  {e.name:<{width}}  "
            + "  ".join(
                f"gen {g}: {c / len(timed):5.1f} x = {t / len(timed) * 1e3:5.1f} ms"
                for g, (c, t) in enumerate(zip(e.collections, e.collector_seconds, strict=True))
            )
        )

    ratio = med[ref.name]["step"] / med[ours.name]["step"]
    mean_ratio = mean[ref.name]["step"] / mean[ours.name]["step"]
    per_step = [a / b for a, b in zip(ref.phases["step"], ours.phases["step"], strict=True)]
    no_gc = [
        statistics.fmean(
            s - g for s, g in zip(e.phases["step"], e.phases["collector"], strict=True)
        )
        for e in (ref, ours)
    ]
    m = mean[ours.name]
    print(
        f"\nreference / chainrule: {ratio:.2f}x (ratio of the median steps), {mean_ratio:.2f}x "
        f"(of the mean steps: a training run's cost); per step (same name): median "
        f"{statistics.median(per_step):.2f}x, range {min(per_step):.2f}-{max(per_step):.2f}x; "
        f"leaving out the collector: {no_gc[0] / no_gc[1]:.2f}x (means)\n"
        f"chainrule's mean step: forward {m['forward'] / m['step']:.0%}, backward "
        f"{m['backward'] / m['step']:.0%}, Adam {m['Adam'] / m['step']:.0%}, freeing the graph "
        f"{m['free'] / m['step']:.0%}; the cycle collector {m['collector'] / m['step']:.0%} "
        f"(within those)\n"
        f"target: chainrule >= 2x faster than the reference (median steps) -> "
        f"{'met' if ratio >= 2 else 'MISSED'}"
    )
    if args.profile:
        profile_chainrule(weights, config, batch[: args.profile_steps], top=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
