"""``DistributedSampler``: each process's share of a dataset, by index.

Every rank draws the same permutation (from ``seed`` and the epoch) and
takes every ``num_replicas``-th index of it, starting at its rank. The
shares are disjoint and together cover the data; a rank only ever sees the
indices of its own share, and loads only those samples. With a per-rank
batch of ``b``, the k-th batches of all ranks together are exactly the k-th
global batch of ``num_replicas * b`` samples of that permutation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

import numpy as np
from numpy.typing import NDArray


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"DistributedSampler: {name} must be an int, got {value!r}")
    return int(value)


class DistributedSampler:
    """The indices of this rank's share of ``dataset``, for ``DataLoader(sampler=...)``.

    Parameters
    ----------
    dataset : anything with ``len()``.
    num_replicas, rank : how many ranks share the data and which one this
        is; by default those of the process group
        (:func:`chainrule.distributed.init_process_group`).
    shuffle : a new permutation every epoch (call :meth:`set_epoch`), the
        same on every rank; ``False`` keeps the dataset's order.
    seed : the permutation's seed; every rank must pass the same one.
    drop_last : drop the last ``len(dataset) % num_replicas`` samples of the
        permutation so the shares divide evenly. Otherwise every sample is
        used and a rank whose share is one short repeats the first index of
        its own share, so that all shares have the same length (and the ranks
        run the same number of steps) without any rank taking another's data.

    >>> sampler = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
    >>> list(sampler), len(sampler)
    ([1, 4, 7, 1], 4)
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from chainrule.distributed.group import world

            w = world("DistributedSampler")
            num_replicas = w.size if num_replicas is None else num_replicas
            rank = w.rank if rank is None else rank
        self.num_replicas = _count(num_replicas, "num_replicas")
        self.rank = _count(rank, "rank")
        if self.num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be >= 1, got {num_replicas}")
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(
                f"DistributedSampler: rank must be from 0 to {self.num_replicas - 1}, got {rank}"
            )
        self.seed = _count(seed, "seed")
        self.dataset = dataset
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if drop_last:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = -(-n // self.num_replicas)
            if n < self.num_replicas:
                raise ValueError(
                    f"DistributedSampler: {n} samples cannot give each of {self.num_replicas} "
                    "ranks a share; use fewer ranks or drop_last=True (no samples at all)"
                )

    def set_epoch(self, epoch: int) -> None:
        """Pick the epoch's permutation (call it on every rank before each epoch)."""
        epoch = _count(epoch, "epoch")
        if epoch < 0:
            raise ValueError(f"DistributedSampler.set_epoch: epoch must be >= 0, got {epoch}")
        self.epoch = epoch

    def indices(self) -> NDArray[np.int64]:
        """This rank's indices for the current epoch, as an array."""
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(n)
        else:
            order = np.arange(n)
        if self.drop_last:
            order = order[: self.num_samples * self.num_replicas]
        share = order[self.rank :: self.num_replicas]
        if len(share) < self.num_samples:  # one short: repeat our own first index
            share = np.concatenate([share, share[: self.num_samples - len(share)]])
        return share.astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (
            f"DistributedSampler({len(self.dataset)} samples, rank {self.rank} of "
            f"{self.num_replicas}, shuffle={self.shuffle}, seed={self.seed}, "
            f"drop_last={self.drop_last}, epoch={self.epoch})"
        )
