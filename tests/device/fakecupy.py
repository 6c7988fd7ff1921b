"""A stand-in for CuPy that runs on the cpu and behaves as CuPy does where CuPy
differs from NumPy, so the tests can keep chainrule's GPU path honest without a GPU.

An ``ndarray`` here wraps a NumPy array. Like a CuPy array:

* it never turns into a NumPy array by itself: ``numpy.asarray(a)`` raises
  ``TypeError`` (``__array__`` refuses, and there is no ``__array_interface__``);
  ``a.get()`` is the explicit copy;
* mixing it with a NumPy array (not a number or a NumPy scalar) in a ufunc, a
  NumPy function or an assignment raises ``TypeError``;
* ``float(a)``, ``int(a)``, ``bool(a)``, ``a.item()``, ``a.tolist()``,
  ``a.get()`` and printing wait for the device: each is counted, with where it
  happened (``SYNCS``);
* NumPy functions reach it through ``__array_function__`` and ufuncs through
  ``__array_ufunc__``, and only the names in CuPy's documented API work
  (``cupy_api.txt``); ``ufunc.reduce`` works only for add and multiply, and
  ``ufunc.at`` not at all (CuPy's ``cupyx.scatter_add`` is the way);
* results are always arrays (0-d for a full reduction), never NumPy scalars;
* ``as_strided`` takes no ``writeable=``, there is no ``errstate``, and the
  random generator has ``random`` and ``standard_normal`` but no ``normal``,
  ``permutation``, ``choice`` or ``shuffle``.

Every module-level name the engine looks up here is recorded in ``CALLED``.
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

API = {line.strip() for line in (Path(__file__).with_name("cupy_api.txt")).read_text().splitlines()
       if line.strip() and not line.startswith("#")}
SRC = str(Path(__file__).resolve().parents[2] / "src" / "chainrule")
SYNCS: list[tuple[str, str]] = []  # (what, where in chainrule or the test)
CALLED: set[str] = set()  # "cupy.zeros", "cupy.add.reduce", "cupyx.scatter_add", ...


PLUMBING = ("backend.py", "engine/base.py")  # where a read is carried out, not decided


def _where() -> str:
    """Which line of chainrule (else of the caller) made a sync: the innermost frame of
    chainrule's own code outside the plumbing that carries out host reads."""
    frames = [f for f in traceback.extract_stack() if f.filename != __file__]
    ours = [f for f in reversed(frames) if f.filename.startswith(SRC)]
    for frame in [f for f in ours if f.filename[len(SRC) + 1:] not in PLUMBING] + ours[:1]:
        return f"{frame.filename[len(SRC) + 1:]}:{frame.lineno} ({frame.name})"
    frame = frames[-1]
    return f"{Path(frame.filename).name}:{frame.lineno}"


_ALLOW_SYNC = [True]


class DeviceSynchronized(RuntimeError):
    """What CuPy raises for a sync inside ``cupyx.allow_synchronize(False)``."""


def _sync(what: str) -> None:
    if not _ALLOW_SYNC[-1]:
        raise DeviceSynchronized(f"{what} synchronized with the device at {_where()}")
    SYNCS.append((what, _where()))


@contextlib.contextmanager
def _allow_synchronize(allow: bool) -> Iterator[None]:
    CALLED.add("cupyx.allow_synchronize")
    _ALLOW_SYNC.append(allow)
    try:
        yield
    finally:
        _ALLOW_SYNC.pop()


def _use(name: str) -> None:
    if name not in API:
        raise TypeError(f"{name} is not in CuPy's API (the test double refuses it)")
    CALLED.add(name)


class Device:
    id = 0

    def __init__(self, index: int = 0) -> None:
        if index != 0:
            raise RuntimeError(f"the test double has one GPU, not GPU {index}")

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def synchronize(self) -> None:
        _sync("synchronize")

    def __repr__(self) -> str:
        return "<CUDA Device 0>"


def _refuse_host(value: Any, where: str) -> None:
    if isinstance(value, np.ndarray):
        raise TypeError(f"Unsupported type {type(value)} in {where}: a NumPy array in a CuPy "
                        "operation (CuPy refuses it; convert with cupy.asarray)")
    if isinstance(value, (list, tuple)):
        for v in value:
            _refuse_host(v, where)


def _unwrap(value: Any) -> Any:
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    return value


def _wrap(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return ndarray(value)
    if isinstance(value, np.generic):  # CuPy gives 0-d arrays, never scalars
        return ndarray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _index(index: Any) -> Any:
    """An index for the wrapped array: CuPy takes CuPy arrays and NumPy arrays as indices."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    return index._a if isinstance(index, ndarray) else index


def _wrapped(index: Any, shape: tuple[int, ...]) -> Any:
    """CuPy wraps an out-of-range integer array index around instead of raising."""
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, np.ndarray) and i.dtype.kind == "b" for i in items):
        return index
    out, axis = [], 0
    for i in items:
        if i is Ellipsis:
            axis += len(shape) - sum(j is not None and j is not Ellipsis for j in items)
        elif isinstance(i, np.ndarray) and i.dtype.kind in "iu" and axis < len(shape):
            i = np.mod(i, shape[axis]) if shape[axis] else i
        out.append(i)
        axis += i is not None and i is not Ellipsis
    return tuple(out) if isinstance(index, tuple) else out[0]


class ndarray:  # noqa: N801 - CuPy's name
    __slots__ = ("_a",)
    __array_priority__ = 100

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    # -- what CuPy refuses, and what makes it wait
    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use "
                        "`.get()` to construct a NumPy array explicitly.")

    def get(self) -> np.ndarray:
        _sync("get")
        return self._a.copy()

    def item(self) -> Any:
        _sync("item")
        return self._a.item()

    def tolist(self) -> Any:
        _sync("tolist")
        return self._a.tolist()

    def __float__(self) -> float:
        _sync("float")
        return float(self._a)

    def __int__(self) -> int:
        _sync("int")
        return int(self._a)

    def __index__(self) -> int:
        _sync("index")
        return int(self._a)

    def __bool__(self) -> bool:
        _sync("bool")
        return bool(self._a)

    def __repr__(self) -> str:
        _sync("repr")
        return "fakecupy." + repr(self._a)

    __str__ = __repr__

    # -- attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    device = property(lambda self: Device(0))
    base = property(lambda self: None if self._a.base is None else self)
    T = property(lambda self: ndarray(self._a.T))
    flags = property(lambda self: SimpleNamespace(
        c_contiguous=self._a.flags.c_contiguous, f_contiguous=self._a.flags.f_contiguous,
        owndata=self._a.flags.owndata))  # no writeable: CuPy's flags have none

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Iterator[ndarray]:
        for i in range(len(self._a)):
            yield ndarray(self._a[i])

    # -- the NumPy protocols, as CuPy answers them
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # CuPy defers to any other type it does not know (a chainrule Tensor): NumPy then
        # asks that type's __array_ufunc__, with the CuPy array as it is.
        if not all(isinstance(x, (ndarray, np.ndarray, np.generic, int, float, bool, complex))
                   for x in inputs):
            return NotImplemented
        _refuse_host(inputs, f"{ufunc.__name__}")
        if "out" in kwargs:
            _refuse_host(kwargs["out"], f"{ufunc.__name__} out=")
        if method == "reduce" and ufunc.__name__ not in ("add", "multiply"):
            raise NotImplementedError(f"CuPy's {ufunc.__name__}.reduce is not supported")
        if method not in ("__call__", "reduce"):
            raise NotImplementedError(f"CuPy has no {ufunc.__name__}.{method}")
        _use(f"cupy.{ufunc.__name__}")
        if method == "reduce":
            CALLED.add(f"cupy.{ufunc.__name__}.reduce")
        kw = {k: _unwrap(v) for k, v in kwargs.items()}
        result = getattr(ufunc, method)(*_unwrap(inputs), **kw)
        if "out" in kwargs:
            return kwargs["out"][0] if len(kwargs["out"]) == 1 else kwargs["out"]
        return _wrap(result)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        name = func.__name__
        module = getattr(func, "__module__", None) or "numpy"  # numpy.linalg -> cupy.linalg
        _use("cupy" + module[len("numpy"):] + "." + name if module.startswith("numpy")
             else f"cupy.{name}")
        _refuse_host(args, name)
        _refuse_host(list(kwargs.values()), name)
        result = func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
        return _wrap(result)

    # -- indexing
    def __getitem__(self, index: Any) -> ndarray:
        return _wrap(self._a[_wrapped(_index(index), self._a.shape)])  # type: ignore[no-any-return]

    def __setitem__(self, index: Any, value: Any) -> None:
        _refuse_host(value, "setitem")
        self._a[_wrapped(_index(index), self._a.shape)] = _unwrap(value)

    # -- methods (each runs on the device: nothing here syncs)
    def _m(name: str) -> Any:  # noqa: N805 - builds the methods below
        def method(self: ndarray, *args: Any, **kwargs: Any) -> Any:
            _refuse_host(args, name)
            return _wrap(getattr(self._a, name)(*_unwrap(args),
                                                **{k: _unwrap(v) for k, v in kwargs.items()}))

        method.__name__ = name
        return method

    reshape = _m("reshape")
    transpose = _m("transpose")
    swapaxes = _m("swapaxes")
    astype = _m("astype")
    copy = _m("copy")
    ravel = _m("ravel")
    squeeze = _m("squeeze")
    sum = _m("sum")
    prod = _m("prod")
    mean = _m("mean")
    max = _m("max")
    min = _m("min")
    argmax = _m("argmax")
    argmin = _m("argmin")
    all = _m("all")
    any = _m("any")
    fill = _m("fill")
    var = _m("var")
    std = _m("std")
    clip = _m("clip")
    nonzero = _m("nonzero")
    del _m


def _binary(ufunc: Any, reflected: bool = False) -> Any:
    def method(self: ndarray, other: Any) -> Any:
        return ufunc(other, self) if reflected else ufunc(self, other)

    return method


def _in_place(ufunc: Any) -> Any:
    def method(self: ndarray, other: Any) -> Any:
        ufunc(self, other, out=(self,))
        return self

    return method


for _name, _ufunc in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                      ("truediv", np.true_divide), ("pow", np.power), ("matmul", np.matmul),
                      ("and", np.logical_and), ("or", np.logical_or), ("mod", np.mod),
                      ("floordiv", np.floor_divide)]:
    setattr(ndarray, f"__{_name}__", _binary(_ufunc))
    setattr(ndarray, f"__r{_name}__", _binary(_ufunc, reflected=True))
    setattr(ndarray, f"__i{_name}__", _in_place(_ufunc))
for _name, _ufunc in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                      ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)]:
    setattr(ndarray, f"__{_name}__", _binary(_ufunc))
ndarray.__neg__ = lambda self: np.negative(self)  # type: ignore[method-assign]
ndarray.__abs__ = lambda self: np.absolute(self)  # type: ignore[method-assign]
ndarray.__invert__ = lambda self: np.invert(self)  # type: ignore[method-assign]
ndarray.__hash__ = None  # type: ignore[assignment]


# -- the module: creation, transfers, and everything else through NumPy, wrapped
def asarray(a: Any, dtype: Any = None) -> ndarray:
    """From the host (or the device) to the device: an explicit transfer."""
    CALLED.add("cupy.asarray")
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == dtype else ndarray(a._a.astype(dtype))
    return ndarray(np.array(a, dtype=dtype))


array = asarray


def _maker(name: str) -> Any:
    def make(*args: Any, **kwargs: Any) -> ndarray:
        _use(f"cupy.{name}")
        _refuse_host(args, name)
        return _wrap(getattr(np, name)(*_unwrap(args), **{k: _unwrap(v) for k, v in
                                                         kwargs.items()}))

    make.__name__ = name
    return make


def __getattr__(name: str) -> Any:
    """Any other documented CuPy function: NumPy's, on the wrapped arrays."""
    if f"cupy.{name}" in API and hasattr(np, name):
        value = getattr(np, name)
        if isinstance(value, np.ufunc):
            CALLED.add(f"cupy.{name}")
            return value  # reaches __array_ufunc__ above with our arrays
        if callable(value) and not isinstance(value, type):
            return _maker(name)
        return value
    raise AttributeError(f"the CuPy test double has no {name!r} (is it in CuPy's API?)")


class _Generator:
    """CuPy's Generator: no normal, permutation, choice or shuffle."""

    def __init__(self, seed: Any = None) -> None:
        self._rng = np.random.default_rng(seed)

    def random(self, size: Any = None, dtype: Any = np.float64) -> ndarray:
        CALLED.add("cupy.random.Generator")
        return ndarray(np.asarray(self._rng.random(size, dtype=dtype)))

    def standard_normal(self, size: Any = None, dtype: Any = np.float64) -> ndarray:
        CALLED.add("cupy.random.Generator")
        return ndarray(np.asarray(self._rng.standard_normal(size, dtype=dtype)))


def _default_rng(seed: Any = None) -> _Generator:
    CALLED.add("cupy.random.default_rng")
    return _Generator(seed)


def _as_strided(x: ndarray, shape: Any = None, strides: Any = None) -> ndarray:
    CALLED.add("cupy.lib.stride_tricks.as_strided")
    return ndarray(np.lib.stride_tricks.as_strided(x._a, shape=shape, strides=strides,
                                                   writeable=False))


random = SimpleNamespace(default_rng=_default_rng)
lib = SimpleNamespace(stride_tricks=SimpleNamespace(as_strided=_as_strided))
cuda = SimpleNamespace(Device=Device, runtime=SimpleNamespace(getDeviceCount=lambda: 1))


# -- cupyx
def _scatter_add(out: ndarray, index: Any, values: Any) -> None:
    CALLED.add("cupyx.scatter_add")
    _refuse_host(values, "scatter_add")
    np.add.at(out._a, _index(index), _unwrap(values))


def _erf(a: ndarray) -> ndarray:
    CALLED.add("cupyx.scipy.special.erf")
    from math import erf

    return ndarray(np.vectorize(erf, otypes=[a.dtype])(a._a))


cupyx = SimpleNamespace(scatter_add=_scatter_add, allow_synchronize=_allow_synchronize,
                        scipy=SimpleNamespace(special=SimpleNamespace(erf=_erf)))


@contextlib.contextmanager
def counting() -> Iterator[list[tuple[str, str]]]:
    """The syncs made inside the block."""
    start = len(SYNCS)
    box: list[tuple[str, str]] = []
    try:
        yield box
    finally:
        box.extend(SYNCS[start:])


this = sys.modules[__name__]
