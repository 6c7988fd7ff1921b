"""TensorDataset and DataLoader: batching, shuffling, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule import Tensor
from chainrule.data import DataLoader, TensorDataset


def _dataset(n: int = 10) -> TensorDataset:
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return TensorDataset(X, np.arange(n))


def test_batches_cover_the_data_in_order() -> None:
    loader = DataLoader(_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    xb, yb = batches[0]
    assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
    assert xb.shape == (4, 3) and xb.dtype == np.float32 and yb.dtype == np.int64
    assert not xb.requires_grad
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in batches]), np.arange(10))


def test_drop_last() -> None:
    loader = DataLoader(_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[0].shape[0] for b in loader] == [4, 4]


def test_shuffle_is_a_permutation_reproducible_with_seed() -> None:
    def epochs(seed: int) -> list[list[int]]:
        loader = DataLoader(_dataset(10), batch_size=3, shuffle=True, seed=seed)
        return [np.concatenate([yb.data for _, yb in loader]).tolist() for _ in range(3)]

    first = epochs(0)
    assert all(sorted(e) == list(range(10)) for e in first)
    assert first[0] != first[1]  # a new order every epoch
    assert epochs(0) == first  # same seed, same sequence of orders
    assert epochs(1) != first


def test_without_a_seed_shuffling_follows_manual_seed() -> None:
    import chainrule as cr

    def first_epoch() -> list[int]:
        loader = DataLoader(_dataset(10), batch_size=10, shuffle=True)
        return next(iter(loader))[1].data.tolist()

    cr.manual_seed(4)
    a = first_epoch()
    cr.manual_seed(4)
    assert first_epoch() == a and sorted(a) == list(range(10))


def test_rows_stay_paired_after_shuffling() -> None:
    for xb, yb in DataLoader(_dataset(10), batch_size=4, shuffle=True, seed=5):
        np.testing.assert_array_equal(xb.data[:, 0], yb.data * 3)


def test_a_list_of_pairs_and_of_single_arrays() -> None:
    pairs = [(np.full(2, i, dtype=np.float64), i) for i in range(5)]
    xb, yb = next(iter(DataLoader(pairs, batch_size=5)))
    assert xb.shape == (5, 2) and yb.data.tolist() == [0, 1, 2, 3, 4]
    singles = [np.ones(3) * i for i in range(4)]
    (b,) = list(DataLoader(singles, batch_size=4))
    assert isinstance(b, Tensor) and b.shape == (4, 3)


def test_tensor_dataset_checks_and_batch_indexing() -> None:
    ds = TensorDataset(Tensor(np.zeros((4, 2))), np.arange(4))
    x, y = ds[np.array([3, 1])]
    assert x.shape == (2, 2) and y.tolist() == [3, 1]
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.zeros((4, 2)), np.arange(5))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
