"""``DistributedSampler`` and ``DataLoader(sampler=...)``, the ranks simulated in one process."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.data import DataLoader, DistributedSampler, TensorDataset


def _shares(n: int, ranks: int, **kw: object) -> list[list[int]]:
    out = []
    for r in range(ranks):
        s = DistributedSampler(range(n), num_replicas=ranks, rank=r, **kw)  # type: ignore[arg-type]
        s.set_epoch(3)
        out.append(list(s))
    return out


@given(
    n=st.integers(1, 200),
    ranks=st.integers(1, 9),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
)
def test_shares_are_disjoint_equal_and_cover(
    n: int, ranks: int, shuffle: bool, drop_last: bool
) -> None:
    if n < ranks and not drop_last:
        with pytest.raises(ValueError, match="cannot give each of"):
            DistributedSampler(range(n), num_replicas=ranks, rank=0)
        return
    shares = _shares(n, ranks, shuffle=shuffle, seed=11, drop_last=drop_last)
    lengths = {len(s) for s in shares}
    assert lengths == {n // ranks if drop_last else -(-n // ranks)}
    owned = [set(s) for s in shares]  # a padded share repeats only its own indices
    for i in range(ranks):
        for j in range(i + 1, ranks):
            assert owned[i].isdisjoint(owned[j])
    covered = set().union(*owned)
    assert covered <= set(range(n))
    assert len(covered) == (n - n % ranks if drop_last else n)


def test_the_ranks_batches_together_are_the_global_batches() -> None:
    n, ranks, b = 23, 2, 4
    shares = _shares(n, ranks, seed=5, drop_last=True)
    order = np.random.default_rng([5, 3]).permutation(n)
    for k in range(len(shares[0]) // b):
        together = sorted(i for s in shares for i in s[k * b : (k + 1) * b])
        assert together == sorted(order[k * ranks * b : (k + 1) * ranks * b].tolist())


def test_epochs_reshuffle_and_every_rank_agrees() -> None:
    a = DistributedSampler(range(50), num_replicas=2, rank=0, seed=1)
    b = DistributedSampler(range(50), num_replicas=2, rank=0, seed=1)
    first = list(a)
    assert list(b) == first  # the same seed: the same permutation
    a.set_epoch(1)
    assert list(a) != first and sorted(a.indices()) != list(range(0, 50, 2))
    ordered = DistributedSampler(range(7), num_replicas=2, rank=1, shuffle=False)
    assert list(ordered) == [1, 3, 5, 1] and len(ordered) == 4


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="rank must be from 0 to 1, got 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be >= 1"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(TypeError, match="num_replicas must be an int"):
        DistributedSampler(range(4), num_replicas=2.0, rank=0)  # type: ignore[arg-type]
    s = DistributedSampler(range(4), num_replicas=2, rank=0)
    with pytest.raises(ValueError, match="epoch must be >= 0"):
        s.set_epoch(-1)


def test_dataloader_takes_the_samplers_indices() -> None:
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    ds = TensorDataset(X, y)
    sampler = DistributedSampler(ds, num_replicas=2, rank=1, seed=0)
    loader = DataLoader(ds, batch_size=3, sampler=sampler)
    assert len(loader) == 2
    seen = np.concatenate([yb.data for _, yb in loader])
    assert seen.tolist() == list(sampler)
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.data, X[yb.data])
    assert "sampler=DistributedSampler(10 samples, rank 1 of 2" in repr(loader)
    pairs = [(X[i], int(y[i])) for i in range(10)]  # a plain list of samples works too
    first = next(iter(DataLoader(pairs, batch_size=5, sampler=sampler)))
    assert first[1].data.tolist() == list(sampler)


def test_dataloader_refuses_a_sampler_with_shuffle_or_seed() -> None:
    ds = TensorDataset(np.zeros((4, 1)))
    sampler = DistributedSampler(ds, num_replicas=1, rank=0)
    with pytest.raises(ValueError, match="shuffle= and seed= do not apply"):
        DataLoader(ds, batch_size=2, shuffle=True, sampler=sampler)
    with pytest.raises(ValueError, match="shuffle= and seed= do not apply"):
        DataLoader(ds, batch_size=2, seed=0, sampler=sampler)
    with pytest.raises(TypeError, match="sampler must have a len"):
        DataLoader(ds, batch_size=2, sampler=iter([0, 1]))  # type: ignore[arg-type]
    with pytest.raises(IndexError, match="the sampler gave index 7 for 4 samples"):
        list(DataLoader(ds, batch_size=2, sampler=[0, 7]))


def test_the_sampler_works_from_the_process_group() -> None:
    cr.distributed.destroy_process_group()
    cr.distributed.init_process_group()
    try:
        s = DistributedSampler(range(5))
        assert (s.rank, s.num_replicas, len(s)) == (0, 1, 5)
    finally:
        cr.distributed.destroy_process_group()
