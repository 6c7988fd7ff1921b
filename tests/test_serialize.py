"""cr.save / cr.load: round trips of state dicts and nested checkpoints, never pickle,
.safetensors to and from PyTorch, and clear errors for files that are not ours."""

from __future__ import annotations

import importlib
import math
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
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
        assert type(back[key]) is type(value)  # Tensors come back as Tensors, arrays as arrays
        np.testing.assert_array_equal(back[key], expected)
    with zipfile.ZipFile(path) as zf:  # readable by anything that reads .npz
        assert "0.weight.npy" in zf.namelist()


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


def test_a_nested_checkpoint_comes_back_as_it_was(tmp_path: Path) -> None:
    model = cr.nn.Sequential(cr.nn.Linear(3, 2), cr.nn.BatchNorm1d(2))
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    model(cr.randn(4, 3)).sum().backward()
    opt.step()
    w = Tensor(np.arange(3.0), requires_grad=True)
    ckpt = {
        "model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3,
        "extras": [1.5, math.inf, -math.inf, None, True, False, "text", (1, 2.0, "x"), w],
        "numbers": {0: np.float32(0.25), 7: np.int64(-3), -1: np.array([[1, 2]], np.uint8)},
        "empty": {"list": [], "dict": {}, "tuple": ()},
        "nan": math.nan,
    }
    save(ckpt, tmp_path / "ckpt")
    back = load(tmp_path / "ckpt")
    assert back.keys() == ckpt.keys()
    assert back["epoch"] == 3 and type(back["epoch"]) is int
    assert back["extras"][:8] == ckpt["extras"][:8]
    assert isinstance(back["extras"][7], tuple)
    assert back["extras"][8].requires_grad and back["extras"][8].is_leaf
    np.testing.assert_array_equal(back["extras"][8].data, w.data)
    assert type(back["numbers"][0]) is np.float32 and back["numbers"][0] == np.float32(0.25)
    assert type(back["numbers"][7]) is np.int64 and list(back["numbers"]) == [0, 7, -1]
    assert back["numbers"][-1].dtype == np.uint8
    assert back["empty"] == {"list": [], "dict": {}, "tuple": ()}
    assert math.isnan(back["nan"])
    assert back["optim"]["param_groups"] == ckpt["optim"]["param_groups"]
    for key, value in ckpt["optim"]["state"][0].items():
        np.testing.assert_array_equal(np.asarray(back["optim"]["state"][0][key]), np.asarray(value))
    fresh = cr.nn.Sequential(cr.nn.Linear(3, 2), cr.nn.BatchNorm1d(2))
    fresh.load_state_dict(back["model"])
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key].data, value.data)


def test_the_file_holds_only_plain_arrays_and_json(tmp_path: Path) -> None:
    save({"a": [cr.ones(2), {"b": "c"}], "n": 1}, tmp_path / "x.npz")
    with np.load(tmp_path / "x.npz", allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)
        assert sorted(npz.files) == ["__chainrule_format__", "__chainrule_manifest__", "a/0"]


leaves = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=5)
          | st.floats(allow_nan=False, width=64))
trees = st.recursive(
    leaves,
    lambda kids: (st.lists(kids, max_size=3) | st.tuples(kids, kids)
                  | st.dictionaries(st.text(max_size=4) | st.integers(-5, 5), kids, max_size=3)),
    max_leaves=12,
)


@given(tree=trees)
def test_any_tree_of_plain_values_round_trips(tree: Any) -> None:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"chainrule-tree-{os.getpid()}.npz"
    try:
        save(tree, path)
        assert load(path) == tree
    finally:
        path.unlink(missing_ok=True)


def test_arrays_in_a_tree_round_trip_with_their_dtypes(tmp_path: Path) -> None:
    arrays = [np.arange(6, dtype=dt).reshape(2, 3) for dt in (np.int8, np.float16, np.complex64)]
    arrays += [np.array(True), np.zeros((0, 4)), np.arange(12.0).reshape(3, 4).T]
    save({"x": arrays}, tmp_path / "a.npz")
    for got, want in zip(load(tmp_path / "a.npz")["x"], arrays, strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_save_refuses_what_it_cannot_store(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"obj\['w'\]\[0\] has dtype object"):
        save({"w": [np.array([{"a": 1}], dtype=object)]}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"obj\['s'\] is a set; a checkpoint holds only dicts"):
        save({"s": {1, 2}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="has a key 1.5; keys must be strings or ints"):
        save({1.5: np.ones(1)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="is a object"):
        save([object()], tmp_path / "x.npz")
    loop: list[Any] = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"obj\[1\] contains itself"):
        save(loop, tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


def test_files_of_the_first_format_still_load(tmp_path: Path) -> None:
    np.savez(tmp_path / "old.npz", __chainrule_format__=np.array(1), w=np.ones(2))
    back = load(tmp_path / "old.npz")
    assert list(back) == ["w"] and isinstance(back["w"], np.ndarray)


# ------------------------------------------------------------------ .safetensors
def _safetensors() -> Any:
    """The safetensors package; a skip naming the install (a failure when CI=true)."""
    if os.environ.get("CI") == "true":
        return importlib.import_module("safetensors.numpy")
    return pytest.importorskip(
        "safetensors.numpy", reason="needs safetensors: pip install 'chainrule[safetensors]'")


def test_safetensors_round_trip_and_refusals(tmp_path: Path) -> None:
    st_numpy = _safetensors()
    state = {"w": Tensor(np.arange(6, dtype=np.float32).reshape(2, 3).T), "n": np.array(3)}
    save(state, tmp_path / "m.safetensors")
    raw = st_numpy.load_file(str(tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(raw["w"], state["w"].data)
    back = load(tmp_path / "m.safetensors")
    assert set(back) == {"w", "n"} and all(isinstance(v, Tensor) for v in back.values())
    assert back["w"].dtype == np.float32 and back["n"].dtype == state["n"].dtype
    np.testing.assert_array_equal(back["w"].data, state["w"].data)
    with pytest.raises(ValueError, match=r"flat dict of name -> tensor, but obj\['optim'\] is a "
                                         r"dict; save the nested checkpoint to a \.npz path"):
        save({"w": np.ones(2), "optim": {"lr": 1}}, tmp_path / "c.safetensors")
    with pytest.raises(TypeError, match=r"obj\['epoch'\] is a int"):
        save({"epoch": 3}, tmp_path / "c.safetensors")
    with pytest.raises(TypeError, match="got a list"):
        save([np.ones(1)], tmp_path / "c.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"nonsense")
    with pytest.raises(ValueError, match="not a readable .safetensors file"):
        load(tmp_path / "bad.safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.safetensors", "m.safetensors"]


def test_safetensors_without_the_package_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'chainrule\[safetensors\]'"):
        save({"w": np.ones(2)}, tmp_path / "m.safetensors")


def test_safetensors_weights_move_to_and_from_pytorch(tmp_path: Path) -> None:
    _safetensors()
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    cr.manual_seed(0)
    ours = cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.BatchNorm1d(3), cr.nn.Linear(3, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3),
                                 torch.nn.Linear(3, 2))
    ours.train()
    ours(cr.randn(8, 4))  # running statistics off their defaults
    ours.eval()
    theirs.eval()
    save(ours.state_dict(), tmp_path / "ours.safetensors")
    theirs.load_state_dict(load_file(str(tmp_path / "ours.safetensors")))
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)

    torch.manual_seed(1)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3),
                                 torch.nn.Linear(3, 2)).eval()
    save_file(theirs.state_dict(), str(tmp_path / "theirs.safetensors"))
    ours.load_state_dict(load(tmp_path / "theirs.safetensors"))
    np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
