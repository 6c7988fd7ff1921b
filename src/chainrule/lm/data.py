"""Names as tokens and padded batches, and the bigram baseline.

Each name is read as BOS, its letters, BOS: the model sees BOS and the letters
and should predict the letters and the final BOS. A batch pads its rows to
the longest name in it: inputs with BOS (harmless: attention is causal, so
no earlier position sees them) and targets with -100, which
``F.cross_entropy`` ignores, so every loss is in nats per predicted character.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule.data import load_names, load_surnames

DATASETS: dict[str, Callable[[], list[str]]] = {"names": load_names, "surnames": load_surnames}
IGNORE = -100  # the target of a padding position: F.cross_entropy's ignore_index


class Tokenizer:
    """One token per letter, and BOS (the last id) for "a name begins or ends here"."""

    def __init__(self, chars: str = string.ascii_lowercase) -> None:
        self.chars = chars
        self.bos = len(chars)
        self.vocab_size = len(chars) + 1
        self._ids = {c: i for i, c in enumerate(chars)}

    def encode(self, name: str) -> list[int]:
        """``[BOS, letters..., BOS]``."""
        try:
            return [self.bos, *(self._ids[c] for c in name), self.bos]
        except KeyError as exc:
            raise ValueError(
                f"cannot encode {name!r}: {exc.args[0]!r} is not one of {self.chars!r}"
            ) from None

    def decode(self, tokens: Iterable[int] | NDArray[np.integer]) -> str:
        """The letters of ``tokens``, BOS left out."""
        return "".join(self.chars[int(t)] for t in tokens if t != self.bos)


def split_names(
    data: str, val_fraction: float, split_seed: int, max_names: int | None = None
) -> tuple[list[str], list[str]]:
    """The training and validation names: shuffled with ``split_seed``, then cut.

    ``max_names`` keeps the most common names only (all by default).
    """
    names = DATASETS[data]()
    if max_names is not None:
        names = names[:max_names]
    order = np.random.default_rng(split_seed).permutation(len(names))
    n_val = max(1, round(val_fraction * len(names)))
    val = [names[i] for i in order[:n_val]]
    train = [names[i] for i in order[n_val:]]
    return train, val


@dataclass
class Encoded:
    """Names as padded rows: ``inputs`` (BOS, letters, then BOS padding) and ``targets``
    (letters, BOS, then -100), each ``(n_names, block_size)``, and each name's length + 1."""

    inputs: NDArray[np.int64]
    targets: NDArray[np.int64]
    steps: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.steps)

    def batch(self, rows: Any) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Rows of inputs and targets, cut to the longest name among them."""
        t = int(self.steps[rows].max())
        return self.inputs[rows, :t], self.targets[rows, :t]


def encode_names(names: Sequence[str], tokenizer: Tokenizer, block_size: int) -> Encoded:
    longest = max(len(n) for n in names)
    if longest + 1 > block_size:
        raise ValueError(
            f"the longest name has {longest} letters: block_size must be at least {longest + 1}"
        )
    inputs = np.full((len(names), block_size), tokenizer.bos, dtype=np.int64)
    targets = np.full((len(names), block_size), IGNORE, dtype=np.int64)
    steps = np.empty(len(names), dtype=np.int64)
    for i, name in enumerate(names):
        tokens = tokenizer.encode(name)
        n = len(tokens) - 1
        inputs[i, :n], targets[i, :n], steps[i] = tokens[:-1], tokens[1:], n
    return Encoded(inputs, targets, steps)


def batches(
    data: Encoded, batch_size: int, rng: np.random.Generator | None = None
) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """``(inputs, targets)`` batches, shuffled by ``rng`` (in order without one)."""
    order = np.arange(len(data)) if rng is None else rng.permutation(len(data))
    for start in range(0, len(order), batch_size):
        yield data.batch(order[start : start + batch_size])


def bigram_loss(train: Encoded, val: Encoded, vocab_size: int, alpha: float = 1.0) -> float:
    """Validation loss (nats per character) of the next-token counts of the training names.

    ``P(next | previous)`` is the count of the pair in the training names plus
    ``alpha``, normalised: the classic counting model with add-one smoothing.
    """
    counts = np.full((vocab_size, vocab_size), alpha)
    keep = train.targets != IGNORE
    np.add.at(counts, (train.inputs[keep], train.targets[keep]), 1)
    logp = np.log(counts / counts.sum(axis=1, keepdims=True))
    keep = val.targets != IGNORE
    return float(-logp[val.inputs[keep], val.targets[keep]].mean())
