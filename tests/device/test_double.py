"""The CuPy test double behaves as CuPy does where CuPy differs from NumPy: if it let
through what CuPy refuses, the device tests would pass on code that fails on a GPU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from . import fakecupy


def _dev(values: Any) -> fakecupy.ndarray:
    return fakecupy.asarray(np.asarray(values, dtype=np.float64))


# ---------------------------------------------------------------- no implicit transfers
@pytest.mark.parametrize("convert", [np.asarray, np.array, lambda a: np.asarray(a, np.float32)],
                         ids=["asarray", "array", "asarray-dtype"])
def test_no_implicit_conversion_to_numpy(convert: Callable[[Any], Any]) -> None:
    a = _dev([1.0, 2.0])
    with pytest.raises(TypeError, match=r"Implicit conversion.*\.get\(\)"):
        convert(a)


def test_no_array_interface_to_slip_through() -> None:
    a = _dev([1.0, 2.0])
    assert not hasattr(a, "__array_interface__")
    assert not hasattr(a, "__array_struct__")
    assert not hasattr(a.flags, "writeable")  # CuPy's flags have no writeable


def test_get_is_the_explicit_copy() -> None:
    a = _dev([1.0, 2.0])
    host = a.get()
    assert type(host) is np.ndarray and host.tolist() == [1.0, 2.0]
    host[0] = 9.0
    assert a.get()[0] == 1.0  # a copy, not a view


@pytest.mark.parametrize("mix", [
    lambda a, h: np.add(a, h),
    lambda a, h: np.add(h, a),
    lambda a, h: a + h,
    lambda a, h: h * a,
    lambda a, h: np.maximum(a, h),
    lambda a, h: a @ h.reshape(2, 1),
    lambda a, h: np.concatenate([a, h]),
    lambda a, h: np.where(a > 0, a, h),
    lambda a, h: np.add(a, a, out=h),
], ids=["ufunc", "ufunc-reflected", "operator", "operator-reflected", "maximum", "matmul",
        "concatenate", "where", "out"])
def test_mixing_with_a_numpy_array_raises(mix: Callable[[Any, Any], Any]) -> None:
    a, h = _dev([1.0, -2.0]), np.array([3.0, 4.0])
    with pytest.raises(TypeError, match="NumPy array"):
        mix(a, h)


def test_in_place_and_assignment_with_a_numpy_array_raise() -> None:
    a, h = _dev([1.0, 2.0]), np.array([3.0, 4.0])
    with pytest.raises(TypeError, match="NumPy array"):
        a += h
    with pytest.raises(TypeError, match="setitem"):
        a[...] = h
    with pytest.raises(TypeError, match="setitem"):
        a[0:1] = h[:1]
    assert a.get().tolist() == [1.0, 2.0]  # nothing was written


def test_numbers_and_numpy_scalars_mix_freely() -> None:
    a = _dev([1.0, 2.0])
    out = a * 2 + np.float64(0.5) - np.int64(1)
    assert isinstance(out, fakecupy.ndarray)
    assert out.get().tolist() == [1.5, 3.5]
    a[0] = np.float32(7.0)
    a[1] = 3
    assert a.get().tolist() == [7.0, 3.0]


def test_device_arrays_mix_with_each_other() -> None:
    a, b = _dev([1.0, 2.0]), _dev([3.0, 4.0])
    assert isinstance(np.add(a, b), fakecupy.ndarray)
    assert (np.concatenate([a, b])).get().tolist() == [1.0, 2.0, 3.0, 4.0]
    a[...] = b
    assert a.get().tolist() == [3.0, 4.0]


# ---------------------------------------------------------------- host syncs, counted
@pytest.mark.parametrize("what, read", [
    ("float", lambda a: float(a[0])),
    ("int", lambda a: int(a[0])),
    ("bool", lambda a: bool(a[0])),
    ("item", lambda a: a[0].item()),
    ("tolist", lambda a: a.tolist()),
    ("get", lambda a: a.get()),
    ("repr", lambda a: repr(a)),
    ("repr", lambda a: str(a)),
    ("index", lambda a: [0, 1, 2][fakecupy.asarray(np.array(1))]),
    ("bool", lambda a: 1 if a[0] > 0 else 0),
])
def test_every_host_read_is_a_counted_sync_with_its_location(
        what: str, read: Callable[[Any], Any]) -> None:
    a = _dev([1.0, 2.0])
    with fakecupy.counting() as syncs:
        read(a)
    assert syncs == [(what, f"test_double.py:{read.__code__.co_firstlineno}")]


def test_device_work_is_not_a_sync() -> None:
    a = _dev([[1.0, 2.0], [3.0, 4.0]])
    with fakecupy.counting() as syncs:
        b = np.exp(a) @ a.T
        c = b.sum(axis=0) + np.max(b) * a.mean()
        c = c.reshape(2, 1).astype(np.float32)
        c[0] = c[1]
        _ = c.shape, c.dtype, c.ndim, c.size, len(c)
    assert syncs == []


def test_a_sync_inside_chainrule_is_located_in_chainrule() -> None:
    from chainrule import backend

    saved = backend._CUDA[:]
    backend.use_cuda_modules(fakecupy, fakecupy.cupyx)
    try:
        import chainrule as cr

        t = cr.tensor([1.0, 2.0], device="cuda").sum()
        with fakecupy.counting() as syncs:
            t.item()
    finally:
        backend._CUDA[:] = saved
        backend._PENDING.clear()
    [(what, where)] = syncs
    assert what == "item"
    assert where.startswith("engine/") and "(item)" in where


# ---------------------------------------------------------------- what CuPy lacks
@pytest.mark.parametrize("ufunc", [np.maximum, np.minimum, np.logical_and, np.subtract])
def test_ufunc_reduce_only_for_add_and_multiply(ufunc: np.ufunc) -> None:
    a = _dev([[1.0, 5.0], [3.0, 2.0]])
    with pytest.raises(NotImplementedError, match=f"{ufunc.__name__}.reduce"):
        ufunc.reduce(a, axis=0)
    assert np.add.reduce(a, axis=0).get().tolist() == [4.0, 7.0]
    assert np.multiply.reduce(a, axis=0).get().tolist() == [3.0, 10.0]
    assert a.max(axis=0).get().tolist() == [3.0, 5.0]  # the method is CuPy's amax


@pytest.mark.parametrize("method", ["at", "accumulate", "outer"])
def test_ufunc_at_and_other_methods_refused(method: str) -> None:
    a = _dev([0.0, 0.0, 0.0])
    index = fakecupy.asarray(np.array([0, 0]))
    args = {"at": (a, index, 1.0), "accumulate": (a,), "outer": (a, a)}[method]
    with pytest.raises(NotImplementedError, match=f"add.{method}"):
        getattr(np.add, method)(*args)


def test_scatter_add_is_the_way_to_add_at_repeated_indices() -> None:
    out = _dev([0.0, 0.0, 0.0])
    fakecupy.cupyx.scatter_add(out, np.array([0, 2, 0]), _dev([1.0, 2.0, 3.0]))
    assert out.get().tolist() == [4.0, 0.0, 2.0]
    with pytest.raises(TypeError, match="NumPy array"):
        fakecupy.cupyx.scatter_add(out, np.array([0]), np.array([1.0]))


@pytest.mark.parametrize("reduce", [
    lambda a: a.sum(), lambda a: np.sum(a), lambda a: a.max(), lambda a: np.mean(a),
    lambda a: np.add.reduce(a, axis=None), lambda a: a[1, 0], lambda a: np.dot(a[0], a[1]),
    lambda a: a.argmax(), lambda a: (a > 0).all(),
], ids=["sum", "np.sum", "max", "mean", "add.reduce", "getitem", "dot", "argmax", "all"])
def test_full_reductions_and_scalar_indexing_give_0d_arrays(
        reduce: Callable[[Any], Any]) -> None:
    a = _dev([[1.0, 2.0], [3.0, 4.0]])
    with fakecupy.counting() as syncs:
        out = reduce(a)
    assert isinstance(out, fakecupy.ndarray) and out.shape == ()
    assert not isinstance(out, (np.generic, float, int, bool))
    assert syncs == []


def test_random_generator_has_only_random_and_standard_normal() -> None:
    rng = fakecupy.random.default_rng(0)
    for missing in ("normal", "permutation", "choice", "shuffle", "integers", "uniform"):
        assert not hasattr(rng, missing), missing
    x = rng.standard_normal((3, 2), dtype=np.float32)
    u = rng.random(4)
    assert isinstance(x, fakecupy.ndarray) and x.shape == (3, 2) and x.dtype == np.float32
    assert isinstance(u, fakecupy.ndarray) and u.dtype == np.float64
    assert fakecupy.random.default_rng(0).standard_normal(5).get().tolist() == \
        fakecupy.random.default_rng(0).standard_normal(5).get().tolist()


def test_as_strided_takes_no_writeable_and_there_is_no_errstate() -> None:
    a = _dev([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="writeable"):
        fakecupy.lib.stride_tricks.as_strided(a, shape=(2,), strides=(8,),
                                              writeable=False)  # type: ignore[call-arg]
    view = fakecupy.lib.stride_tricks.as_strided(a, shape=(2, 2), strides=(8, 8))
    assert view.get().tolist() == [[1.0, 2.0], [2.0, 3.0]]
    with pytest.raises(AttributeError, match="errstate"):
        fakecupy.errstate  # noqa: B018 - the lookup is the test


def test_names_outside_cupys_api_are_refused() -> None:
    assert "cupy.nanpercentile" not in fakecupy.API and "cupy.errstate" not in fakecupy.API
    a = _dev([1.0, 2.0])
    with pytest.raises(TypeError, match="cupy.nanpercentile is not in CuPy's API"):
        np.nanpercentile(a, 50)
    with pytest.raises(AttributeError, match="nanpercentile"):
        fakecupy.nanpercentile  # noqa: B018 - the lookup is the test
    # a documented name works, and is recorded
    fakecupy.CALLED.discard("cupy.nancumsum")
    assert np.nancumsum(a).get().tolist() == [1.0, 3.0]
    assert "cupy.nancumsum" in fakecupy.CALLED


def test_module_functions_make_device_arrays_and_refuse_host_arrays() -> None:
    z = fakecupy.zeros((2, 3), dtype=np.float32)
    assert isinstance(z, fakecupy.ndarray) and z.shape == (2, 3)
    assert isinstance(fakecupy.exp(z), fakecupy.ndarray)
    with pytest.raises(TypeError, match="NumPy array"):
        fakecupy.zeros_like(np.zeros(2))


def test_functions_of_numpy_submodules_are_looked_up_in_cupy_submodules(gpu: None) -> None:
    a = fakecupy.asarray(np.array([3.0, 4.0]))
    assert float(np.linalg.norm(a)) == 5.0
    assert "cupy.linalg.norm" in fakecupy.CALLED
