"""cr.save / cr.load: round trips, and clear errors for files that are not ours."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from chainrule import Tensor
from chainrule.serialize import load, save


def test_round_trip_keeps_values_dtypes_and_names(tmp_path: Path) -> None:
    state = {
        "0.weight": Tensor(np.random.default_rng(0).normal(size=(3, 2)).astype(np.float32)),
        "0.bias": np.arange(3.0),
        "bn.num_batches_tracked": np.array(7, dtype=np.int64),
    }
    path = tmp_path / "model"  # no suffix added behind the user's back
    save(state, path)
    assert path.exists() and not (tmp_path / "model.npz").exists()
    back = load(path)
    assert list(back) == list(state)
    for key, value in state.items():
        expected = np.asarray(value)
        assert back[key].dtype == expected.dtype and back[key].shape == expected.shape
        np.testing.assert_array_equal(back[key], expected)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load(tmp_path / "nope.npz")


def test_garbage_truncated_and_foreign_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match=r"junk\.npz.*not an \.npz archive"):
        load(junk)

    good = tmp_path / "good.npz"
    save({"w": np.ones(100)}, good)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"cut\.npz.*corrupt or truncated"):
        load(cut)

    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, w=np.ones(2))
    with pytest.raises(ValueError, match=r"foreign\.npz.*not one written by chainrule"):
        load(foreign)

    single = tmp_path / "single.npy"
    np.save(single, np.ones(2))
    with pytest.raises(ValueError, match="single .npy array"):
        load(single)


def test_pickled_objects_are_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.npz"
    with zipfile.ZipFile(evil, "w") as zf:
        with zf.open("__chainrule_format__.npy", "w") as f:
            np.save(f, np.array(1))
        with zf.open("w.npy", "w") as f:
            np.save(f, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickled"):
        load(evil)


def test_save_refuses_what_it_cannot_store(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="'w' has dtype object"):
        save({"w": [{"a": 1}]}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be non-empty strings"):
        save({3: np.ones(1)}, tmp_path / "x.npz")  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="expected a dict"):
        save([np.ones(1)], tmp_path / "x.npz")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind
