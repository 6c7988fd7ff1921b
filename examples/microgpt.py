"""A GPT made of scalars: train a tiny language model on names with ``cr.Value``.

Every number of the model below (each weight, each activation, the loss) is
one ``cr.Value``: a scalar that remembers how it was computed, so that
``loss.backward()`` can fill in ``.grad`` on every weight. No tensors, no
NumPy: a transformer written out number by number, in the spirit of Andrej
Karpathy's microgpt (2026). It is slow (tens of thousands of Values per name)
and that is the point: nothing is hidden.

The page reads top to bottom:

1. the data: real first names, one "document" per name;
2. the tokenizer: one token per letter, plus BOS, which marks where a name
   begins and ends;
3. the parameters: lists of lists of Values;
4. the model: embeddings, RMSNorm, causal self-attention over a cache of
   keys and values (the model reads one token at a time), an MLP, the head;
5. training: the loss on one name, ``backward()``, an Adam update;
6. sampling: new names, one letter at a time.

Run:  python examples/microgpt.py               (10 steps: a few seconds)
      python examples/microgpt.py --steps 1000   (about two minutes: the loss
      falls from about 3.3 to about 2.2 and the names become plausible)
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Sequence

import chainrule as cr

Value = cr.Value
Vector = list[Value]
Matrix = list[Vector]

# -- 1. the data ------------------------------------------------------------
# About 5,000 first names from the 1990 US Census, lower case a-z, shipped
# with chainrule. We shuffle them so that training sees a mix.


def load_dataset(seed: int) -> list[str]:
    names = cr.data.load_names()
    random.Random(seed).shuffle(names)
    return names


# -- 2. the tokenizer -------------------------------------------------------
# A character-level model: token i is the i-th letter, and one more token, BOS
# ("beginning of sequence"), frames each name. "ada" is read as
# [BOS, a, d, a, BOS]: after the first BOS the model should predict "a", ...,
# and after the last "a" it should predict BOS, "the name ends here".


class Tokenizer:
    def __init__(self, names: Sequence[str]) -> None:
        self.chars = sorted(set("".join(names)))  # 'a' .. 'z'
        self.bos = len(self.chars)
        self.vocab_size = len(self.chars) + 1

    def encode(self, name: str) -> list[int]:
        return [self.bos] + [self.chars.index(c) for c in name] + [self.bos]

    def decode(self, tokens: Sequence[int]) -> str:
        return "".join(self.chars[t] for t in tokens if t != self.bos)


# -- 3. the parameters ------------------------------------------------------
# A matrix is a list of rows, each row a list of Values. Small random
# numbers to start with; training moves them.

N_EMBD = 16  # the width of every vector inside the model
N_HEAD = 4  # attention heads, each looking at N_EMBD // N_HEAD numbers
HEAD_DIM = N_EMBD // N_HEAD
BLOCK_SIZE = 16  # the longest context: names are shorter than this


def matrix(rows: int, cols: int, rng: random.Random, std: float = 0.08) -> Matrix:
    return [[Value(rng.gauss(0.0, std)) for _ in range(cols)] for _ in range(rows)]


def init_params(vocab_size: int, seed: int) -> dict[str, Matrix]:
    rng = random.Random(seed)
    return {
        "wte": matrix(vocab_size, N_EMBD, rng),  # token embedding: a vector per token
        "wpe": matrix(BLOCK_SIZE, N_EMBD, rng),  # position embedding: a vector per position
        "wq": matrix(N_EMBD, N_EMBD, rng),  # attention: queries,
        "wk": matrix(N_EMBD, N_EMBD, rng),  # keys,
        "wv": matrix(N_EMBD, N_EMBD, rng),  # values,
        "wo": matrix(N_EMBD, N_EMBD, rng),  # and the output projection
        "fc1": matrix(4 * N_EMBD, N_EMBD, rng),  # MLP: 16 -> 64
        "fc2": matrix(N_EMBD, 4 * N_EMBD, rng),  # MLP: 64 -> 16
        "head": matrix(vocab_size, N_EMBD, rng),  # a score (logit) per next token
    }


# -- 4. the model -----------------------------------------------------------
# Three small helpers, then the model itself.


def linear(x: Vector, w: Matrix) -> Vector:
    """Matrix times vector: one dot product per row of w (no bias)."""
    return [sum(wi * xi for wi, xi in zip(row, x, strict=True)) for row in w]


def softmax(logits: Vector) -> Vector:
    """Scores to probabilities that sum to 1."""
    # Subtracting the largest score changes nothing mathematically and keeps
    # exp() from overflowing. It is a plain number, not part of the graph.
    top = max(v.data for v in logits)
    exps = [(v - top).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x: Vector) -> Vector:
    """Rescale x to a root-mean-square of 1 (no learned gain here)."""
    mean_square = sum(xi * xi for xi in x) / len(x)
    scale = (mean_square + 1e-5) ** -0.5  # 1e-5: never divide by 0
    return [xi * scale for xi in x]


def gpt(
    token: int, pos: int, params: dict[str, Matrix], keys: list[Vector], values: list[Vector]
) -> Vector:
    """The logits for the token that follows ``token``, seen at position ``pos``.

    The model reads a name one token at a time. Each call appends this
    position's key and value to ``keys`` and ``values`` (the "KV cache"), so
    attention sees this token and every earlier one, never a later one: the
    attention is causal by construction.
    """
    # embeddings: what the token is, plus where it is
    x = [t + p for t, p in zip(params["wte"][token], params["wpe"][pos], strict=True)]
    x = rmsnorm(x)  # the residual stream starts at a unit scale

    # self-attention, with a residual connection around it
    residual = x
    x = rmsnorm(x)
    q = linear(x, params["wq"])  # what this position is looking for
    keys.append(linear(x, params["wk"]))  # what each position offers
    values.append(linear(x, params["wv"]))  # what each position passes on
    heads = []
    for h in range(N_HEAD):  # each head attends with its own slice of q, k, v
        lo, hi = h * HEAD_DIM, (h + 1) * HEAD_DIM
        scores = [
            sum(qi * ki for qi, ki in zip(q[lo:hi], k[lo:hi], strict=True)) / math.sqrt(HEAD_DIM)
            for k in keys
        ]
        weights = softmax(scores)  # how much to take from each position so far
        heads += [
            sum(w * v[j] for w, v in zip(weights, values, strict=True)) for j in range(lo, hi)
        ]
    x = [a + r for a, r in zip(linear(heads, params["wo"]), residual, strict=True)]

    # the MLP, with a residual connection around it
    residual = x
    x = rmsnorm(x)
    x = [xi.relu() for xi in linear(x, params["fc1"])]
    x = [a + r for a, r in zip(linear(x, params["fc2"]), residual, strict=True)]

    # the head: one score per token of the vocabulary
    return linear(x, params["head"])


# -- 5. training ------------------------------------------------------------


def name_loss(tokens: list[int], params: dict[str, Matrix]) -> Value:
    """Mean cross-entropy of predicting each next token of one name."""
    n = min(BLOCK_SIZE, len(tokens) - 1)
    keys: list[Vector] = []
    values: list[Vector] = []
    losses = []
    for pos in range(n):
        probs = softmax(gpt(tokens[pos], pos, params, keys, values))
        # cross-entropy: -log of the probability given to the right next token
        losses.append(-probs[tokens[pos + 1]].log())
    return sum(losses) / n


class Adam:
    """Adam: a step per parameter scaled by running averages of its gradient."""

    def __init__(
        self,
        params: list[Value],
        lr: float = 1e-2,
        betas: tuple[float, float] = (0.85, 0.99),
        eps: float = 1e-8,
    ) -> None:
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [0.0] * len(params)  # running mean of the gradient
        self.v = [0.0] * len(params)  # running mean of its square
        self.t = 0

    def step(self, lr: float) -> None:
        self.t += 1
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            self.m[i] = b1 * self.m[i] + (1 - b1) * p.grad
            self.v[i] = b2 * self.v[i] + (1 - b2) * p.grad**2
            m_hat = self.m[i] / (1 - b1**self.t)  # undo the bias toward 0 of the first steps
            v_hat = self.v[i] / (1 - b2**self.t)
            p.data -= lr * m_hat / (math.sqrt(v_hat) + self.eps)
            p.grad = 0.0  # gradients accumulate: reset them for the next step


def train(
    names: list[str], tokenizer: Tokenizer, params: dict[str, Matrix], steps: int
) -> list[float]:
    flat = [p for m in params.values() for row in m for p in row]
    print(f"{len(flat)} parameters, {len(names)} names, vocabulary of {tokenizer.vocab_size}")
    optimizer = Adam(flat)
    history = []
    for step in range(steps):
        tokens = tokenizer.encode(names[step % len(names)])  # one name per step
        loss = name_loss(tokens, params)
        loss.backward()  # fills p.grad for every parameter
        optimizer.step(lr=optimizer.lr * (1 - step / steps))  # the rate decays to 0
        history.append(loss.data)
        print(f"step {step + 1:4d} / {steps}  loss {loss.data:.4f}")
    return history


# -- 6. sampling ------------------------------------------------------------


def sample(
    params: dict[str, Matrix], tokenizer: Tokenizer, rng: random.Random, temperature: float
) -> str:
    """A new name: start from BOS, draw each next token until BOS comes back."""
    keys: list[Vector] = []
    values: list[Vector] = []
    token, out = tokenizer.bos, []
    for pos in range(BLOCK_SIZE):
        logits = gpt(token, pos, params, keys, values)
        probs = softmax([logit / temperature for logit in logits])  # < 1: bolder choices
        token = rng.choices(range(tokenizer.vocab_size), weights=[p.data for p in probs])[0]
        if token == tokenizer.bos:
            break
        out.append(token)
    return tokenizer.decode(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="training steps, one name each")
    parser.add_argument("--samples", type=int, default=5, help="names to generate at the end")
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    if args.temperature <= 0:
        parser.error(f"--temperature must be positive, got {args.temperature}")

    names = load_dataset(args.seed)
    tokenizer = Tokenizer(names)
    params = init_params(tokenizer.vocab_size, args.seed)
    print(
        f"a loss of ln({tokenizer.vocab_size}) = {math.log(tokenizer.vocab_size):.4f} "
        "is a uniform guess"
    )
    train(names, tokenizer, params, args.steps)
    rng = random.Random(args.seed)
    print(f"new names (temperature {args.temperature}):")
    for i in range(args.samples):
        print(f"  sample {i + 1:2d}: {sample(params, tokenizer, rng, args.temperature)}")


if __name__ == "__main__":
    main()
