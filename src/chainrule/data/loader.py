"""Datasets, mini-batches and a seeded train/test split.

A dataset is anything with ``len()`` and integer indexing that returns one
sample, usually an ``(x, y)`` pair. :class:`TensorDataset` wraps whole arrays
and also accepts an array of indices, so :class:`DataLoader` fetches a batch
with one fancy-indexing call per array instead of a Python loop per sample.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from chainrule.engine import Tensor


class Dataset(Protocol):
    """What :class:`DataLoader` needs: a length and integer indexing."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


class Sampler(Protocol):
    """What ``DataLoader(sampler=...)`` needs: a length and the indices to take, in order."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[int]: ...


def _as_array(value: Any) -> NDArray[Any]:
    """The ndarray behind a Tensor, or ``np.asarray`` of anything else."""
    data = getattr(value, "data", None)
    if isinstance(data, np.ndarray):
        return data
    return np.asarray(value)


def _global_generator() -> np.random.Generator:
    from chainrule.engine.factories import generator

    rng: np.random.Generator = generator()
    return rng


def _to_tensor(array: NDArray[Any]) -> Tensor:
    from chainrule.engine import Tensor

    return Tensor(array)


class TensorDataset:
    """Samples made of the rows of equally long arrays (NumPy arrays or Tensors).

    ``ds[i]`` is the tuple ``(X[i], y[i], ...)``; ``ds[idx]`` with an integer
    array ``idx`` returns whole batches ``(X[idx], y[idx], ...)`` at once.

    Example
    -------
    >>> import numpy as np
    >>> ds = TensorDataset(np.zeros((5, 3)), np.arange(5))
    >>> len(ds), ds[np.array([0, 4])][1].tolist()
    (5, [0, 4])
    """

    def __init__(self, *arrays: ArrayLike | Tensor) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays: tuple[NDArray[Any], ...] = tuple(_as_array(a) for a in arrays)
        lengths = [a.shape[0] if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(
                f"TensorDataset: every array needs the same first dimension, got shapes {shapes}"
            )

    def __len__(self) -> int:
        return int(self.arrays[0].shape[0])

    def __getitem__(self, index: int | slice | NDArray[np.integer]) -> tuple[NDArray[Any], ...]:
        return tuple(a[index] for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"TensorDataset({shapes})"


class DataLoader:
    """Iterate over a dataset in mini-batches of Tensors.

    Parameters
    ----------
    dataset : a :class:`TensorDataset`, or any sequence of samples (each an
        array-like or a tuple of them, e.g. a list of ``(x, y)`` pairs).
    batch_size : samples per batch; the last batch may be smaller.
    shuffle : draw a new random order at the start of every pass.
    seed : seed of the loader's own generator: two loaders built with the same
        seed yield the same sequence of batches, epoch after epoch. With
        ``None`` the order is drawn from chainrule's global generator, so
        ``cr.manual_seed`` makes it reproducible (as ``torch.manual_seed``
        does for PyTorch's loader).
    drop_last : skip the final batch when it is smaller than ``batch_size``.
    sampler : the indices to take, in order, instead of ``shuffle``: anything
        with ``len()`` that iterates over integers, e.g. a
        :class:`~chainrule.data.DistributedSampler` giving this process its
        share of the data.

    Each batch is a tuple with one Tensor per field (or a single Tensor when
    samples are single arrays), stacked along a new first axis; labels keep
    their integer dtype.

    Example
    -------
    >>> import numpy as np
    >>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    >>> [tuple(xb.shape) for xb, yb in DataLoader(ds, batch_size=2)]
    [(2, 2), (2, 2), (1, 2)]
    """

    def __init__(
        self,
        dataset: Dataset | Sequence[Any],
        batch_size: int = 1,
        shuffle: bool = False,
        seed: int | None = None,
        drop_last: bool = False,
        sampler: Sampler | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        if sampler is not None and (shuffle or seed is not None):
            raise ValueError(
                "DataLoader: with sampler= the sampler decides the order, so shuffle= and "
                "seed= do not apply; shuffle and seed the sampler instead"
            )
        if sampler is not None and not hasattr(sampler, "__len__"):
            raise TypeError(
                f"DataLoader: sampler must have a len() and yield indices, "
                f"got {type(sampler).__name__}"
            )
        self.sampler = sampler
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def _fetch(self, idx: NDArray[np.int64]) -> tuple[NDArray[Any], ...] | NDArray[Any]:
        if isinstance(self.dataset, TensorDataset):
            return self.dataset[idx]
        samples = [self.dataset[int(i)] for i in idx]
        if isinstance(samples[0], tuple):
            return tuple(
                np.stack([_as_array(s[k]) for s in samples]) for k in range(len(samples[0]))
            )
        return np.stack([_as_array(s) for s in samples])

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        if self.sampler is not None:
            order = np.fromiter(self.sampler, dtype=np.int64)
            if order.size and not (0 <= order.min() and order.max() < n):
                bad = order.min() if order.min() < 0 else order.max()
                raise IndexError(f"DataLoader: the sampler gave index {bad} for {n} samples")
            n = len(order)
        elif self.shuffle:
            rng = self._rng if self._rng is not None else _global_generator()
            order = rng.permutation(n)
        else:
            order = np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            batch = self._fetch(order[start : start + self.batch_size])
            if isinstance(batch, tuple):
                yield tuple(_to_tensor(a) for a in batch)
            else:
                yield _to_tensor(batch)

    def __repr__(self) -> str:
        sampler = f", sampler={self.sampler!r}" if self.sampler is not None else ""
        return (
            f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last}{sampler})"
        )


def train_test_split(
    *arrays: ArrayLike,
    test_size: float = 0.2,
    seed: int | None = None,
    stratify: ArrayLike | None = None,
) -> list[NDArray[Any]]:
    """Split arrays into random train and test parts, reproducibly with ``seed``.

    Parameters
    ----------
    *arrays : arrays with the same first dimension, split along it together.
    test_size : a fraction in (0, 1) of the samples, or an integer count.
    seed : seed of the generator; the same seed gives the same split.
    stratify : labels (often ``y``); if given, every class is split in the
        same proportion (the test count per class is rounded so that the
        total is exactly the requested size).

    Returns
    -------
    ``[a_train, a_test, b_train, b_test, ...]``, each part in random order.

    Example
    -------
    >>> import numpy as np
    >>> X, y = np.arange(20).reshape(10, 2), np.array([0, 1] * 5)
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.4, seed=0, stratify=y)
    >>> len(y_tr), np.bincount(y_te).tolist()
    (6, [2, 2])
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    arrs = [_as_array(a) for a in arrays]
    n = len(arrs[0])
    if any(len(a) != n for a in arrs):
        shapes = ", ".join(str(a.shape) for a in arrs)
        raise ValueError(f"train_test_split: arrays differ in length, got shapes {shapes}")
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, float) and 0.0 < test_size < 1.0:
        n_test = int(round(test_size * n))
    else:
        raise ValueError(
            f"train_test_split: test_size must be a fraction in (0, 1) or a count, "
            f"got {test_size!r}"
        )
    if not 0 < n_test < n:
        raise ValueError(
            f"train_test_split: test_size={test_size!r} leaves {n_test} of {n} samples "
            "for testing; both parts need at least one"
        )
    rng = np.random.default_rng(seed)
    if stratify is None:
        order = rng.permutation(n)
        test_idx, train_idx = order[:n_test], order[n_test:]
    else:
        labels = _as_array(stratify)
        if len(labels) != n:
            raise ValueError(f"train_test_split: stratify has {len(labels)} labels for {n} samples")
        classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        # largest-remainder rounding: per-class shares that add up to n_test
        share = n_test * counts / n
        per_class = np.floor(share).astype(np.int64)
        leftover = n_test - int(per_class.sum())
        per_class[np.argsort(-(share - per_class), kind="stable")[:leftover]] += 1
        test_parts, train_parts = [], []
        for c in range(len(classes)):
            members = rng.permutation(np.flatnonzero(inverse == c))
            test_parts.append(members[: per_class[c]])
            train_parts.append(members[per_class[c] :])
        test_idx = rng.permutation(np.concatenate(test_parts))
        train_idx = rng.permutation(np.concatenate(train_parts))
    out: list[NDArray[Any]] = []
    for a in arrs:
        out += [a[train_idx], a[test_idx]]
    return out
