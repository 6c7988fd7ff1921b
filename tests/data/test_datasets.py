"""Synthetic sets, the shipped digits and the train/test split."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.data import load_digits, make_moons, make_spirals, train_test_split


def test_moons_shapes_classes_and_determinism() -> None:
    X, y = make_moons(101, noise=0.1, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [51, 50]
    X2, y2 = make_moons(101, noise=0.1, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, make_moons(101, noise=0.1, seed=4)[0])


def test_moons_without_noise_lie_on_the_half_circles() -> None:
    X, y = make_moons(40, noise=0.0)
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0)


def test_spirals_shapes_classes_and_determinism() -> None:
    X, y = make_spirals(100, classes=3, noise=0.2, seed=0)
    assert X.shape == (100, 2)
    assert np.bincount(y).tolist() == [34, 33, 33]
    np.testing.assert_array_equal(X, make_spirals(100, classes=3, noise=0.2, seed=0)[0])
    assert np.abs(make_spirals(60, classes=2, noise=0.0)[0]).max() <= 1.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: make_moons(-1),
        lambda: make_moons(10, noise=-0.1),
        lambda: make_spirals(10, classes=0),
        lambda: make_spirals(2, classes=3),
        lambda: make_spirals(10, noise=float("nan")),
    ],
)
def test_bad_arguments_raise(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="make_"):
        call()


def test_digits_are_the_real_uci_test_set() -> None:
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert X.min() == 0.0 and X.max() == 1.0
    # every pixel is a count 0..16 scaled by 1/16
    np.testing.assert_array_equal(X * 16, np.round(X * 16))
    # the first image is a zero, as in the original file
    assert y[:10].tolist() == list(range(10))
    assert (X[0] * 16).astype(int)[:8].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]


def test_digits_as_images_and_float64() -> None:
    X, y = load_digits(images=True, dtype=np.float64)
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float64
    np.testing.assert_array_equal(X.reshape(1797, 64), load_digits(dtype=np.float64).X)
    with pytest.raises(TypeError, match="floating"):
        load_digits(dtype=np.int32)


def test_split_is_seeded_disjoint_and_stratified() -> None:
    X, y = load_digits()
    idx = np.arange(len(y))
    i_tr, i_te, y_tr, y_te = train_test_split(idx, y, test_size=0.2, seed=0, stratify=y)
    assert len(i_te) == 359 and len(i_tr) == 1797 - 359
    assert set(i_tr.tolist()).isdisjoint(i_te.tolist())
    np.testing.assert_array_equal(y[i_te], y_te)
    # each class keeps its share, within one sample
    expected = np.bincount(y) * 359 / 1797
    assert np.all(np.abs(np.bincount(y_te) - expected) < 1)
    again = train_test_split(idx, y, test_size=0.2, seed=0, stratify=y)
    np.testing.assert_array_equal(again[1], i_te)
    other = train_test_split(idx, y, test_size=0.2, seed=1, stratify=y)
    assert not np.array_equal(other[1], i_te)


def test_split_without_stratify_and_with_a_count() -> None:
    a_tr, a_te = train_test_split(np.arange(10), test_size=3, seed=0)
    assert len(a_te) == 3 and sorted(np.concatenate([a_tr, a_te]).tolist()) == list(range(10))
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.arange(10), test_size=1.5)
    with pytest.raises(ValueError, match="differ in length"):
        train_test_split(np.arange(10), np.arange(9))
