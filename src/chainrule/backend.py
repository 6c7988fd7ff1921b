"""The array libraries behind the tensor engine: NumPy on the cpu, CuPy on a GPU.

An array carries its library, and every op runs on the library of its inputs:
``numpy.exp(a)`` on a CuPy array runs CuPy's exp (NumPy hands it over through
the ``__array_ufunc__`` / ``__array_function__`` protocols), so no op is
written twice. This module is where the two libraries differ, handled once:
making new arrays next to a given one (``zeros(..., like=a)``), adding into
repeated indices (``scatter_add``), strided windows (``as_strided``), the
error function, and which arrays may be written into. Nothing moves between
devices implicitly: ``to_device`` and ``to_host`` are the only transfers.

The names here double as the *array namespace* a derivative rule receives as
``m``: the same rule runs on plain arrays (fast, first-order) or, through
``chainrule.ops.traced``, on Tensors (recorded, so it can be differentiated
again). Both namespaces offer the same names.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy

from .errors import DeviceError

xp = numpy
ndarray = numpy.ndarray

# Floating-point trouble inside an op (the log of 0, 0/0, an overflow) gives
# NumPy's values (inf, nan) without NumPy's RuntimeWarning pointing into
# chainrule; cr.detect_anomaly() says which op made such a value, and where.
# (Wrapping each op in numpy.errstate instead would make a small op 4x slower.)
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"chainrule(\.|$)")
Array = Any  # an xp.ndarray; kept loose so another backend type-checks too
Pair = tuple[int, int]

# ---------------------------------------------------------------- devices
_CUDA: list[Any] = []  # (cupy, cupyx) once a GPU was asked for; tests put a stand-in here


def cuda_modules() -> tuple[Any, Any]:
    """CuPy and cupyx, imported the first time a GPU is asked for."""
    if not _CUDA:
        try:
            import cupy  # type: ignore[import-not-found]
            import cupyx  # type: ignore[import-not-found]
            import cupyx.scipy.special  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            raise DeviceError(
                "device 'cuda' needs CuPy: pip install 'chainrule[cuda13]' (or "
                "'chainrule[cuda12]', matching the CUDA of your driver)"
            ) from None
        _CUDA.append((cupy, cupyx))
    return _CUDA[0]  # type: ignore[no-any-return]


def use_cuda_modules(cupy: Any, cupyx: Any) -> None:
    """Run "cuda" on these modules (the test double that stands in for CuPy)."""
    _CUDA[:] = [(cupy, cupyx)]


def cuda_available() -> bool:
    """Whether CuPy is installed and sees a GPU."""
    try:
        cupy = cuda_modules()[0]
        return bool(cupy.cuda.runtime.getDeviceCount() > 0)
    except Exception:  # noqa: BLE001 - no CuPy, no driver, no device: not available
        return False


def on_device(a: Any) -> bool:
    """Whether ``a`` is an array of the GPU library (not NumPy's, not a number)."""
    return bool(_CUDA) and isinstance(a, _CUDA[0][0].ndarray)


def namespace(a: Any) -> Any:
    """The array library ``a`` belongs to: numpy, or cupy for a GPU array."""
    return _CUDA[0][0] if type(a) is not ndarray and on_device(a) else numpy


def parse_device(device: Any, where: str) -> tuple[str, int]:
    """``"cpu"``, ``"cuda"``, ``"cuda:N"``, a GPU's number N (as in PyTorch), or a
    Tensor's ``.device``, as (kind, index)."""
    if type(device) is int and device >= 0:
        return "cuda", device
    text = str(device)
    if text == "cpu":
        return "cpu", 0
    if text == "cuda" or text.startswith("cuda:") and text[5:].isdigit():
        return "cuda", int(text[5:]) if ":" in text else 0
    raise ValueError(f"{where}: unknown device {device!r}; use 'cpu', 'cuda' or 'cuda:N'")


def device_of(a: Any) -> str:
    """Where ``a`` lives: "cpu", or "cuda:N"."""
    if on_device(a):
        return f"cuda:{a.device.id}"
    return "cpu"


@functools.lru_cache(maxsize=4)
def _device_count(cupy: Any) -> int:
    """How many GPUs this CuPy sees (asked once: GPUs do not come and go in a process)."""
    return int(cupy.cuda.runtime.getDeviceCount())


def gpu(index: int, where: str) -> Any:
    """CuPy's context for GPU ``index`` (``with gpu(i, where): ...``); DeviceError if
    there is no such GPU."""
    cupy = cuda_modules()[0]
    count = _device_count(cupy)
    if not 0 <= index < count:
        seen = f"GPUs cuda:0 to cuda:{count - 1}" if count > 1 else (
            "one GPU, cuda:0" if count else "no GPU")
        raise DeviceError(f"{where}: there is no device 'cuda:{index}': CuPy sees {seen}")
    return cupy.cuda.Device(index)


def to_device(a: Any, device: Any, where: str = "to") -> Any:
    """``a`` copied to ``device`` (itself if it is there already): an explicit transfer."""
    kind, index = parse_device(device, where)
    if kind == "cpu":
        return to_host(a)
    if on_device(a) and a.device.id == index:
        return a
    with gpu(index, where):
        return cuda_modules()[0].asarray(a)


def to_host(a: Any) -> Any:
    """``a`` as a NumPy array: a GPU array is copied back (waiting for the GPU)."""
    if not on_device(a):
        return a
    flush_checks()
    return a.get()


# Index range checks. NumPy raises IndexError for an index out of range; CuPy wraps it
# around and silently picks another row. Checking a GPU index at once would make the
# host wait for the GPU (a sync in every step), so the GPU computes the index's min
# and max and the check waits in this queue until the host reads the GPU anyway
# (.item(), float(), printing, .cpu()): it comes late, but it comes.
_PENDING: list[tuple[Any, int, int, str]] = []  # ([min, max] on the GPU, low, high, message)
_PENDING_LIMIT = 256  # a long run with no host read still checks every 256 index ops


def check_range(index: Any, low: int, high: int, message: str) -> None:
    """Raise IndexError (``message.format(bad_value)``) unless every entry of the integer
    array ``index`` lies in ``[low, high)``: at once for a NumPy array, and for a GPU
    array at the next host read."""
    if not index.size:
        return
    if not on_device(index):
        lo, hi = int(index.min()), int(index.max())
        if lo < low or hi >= high:
            raise IndexError(message.format(lo if lo < low else hi))
        return
    _PENDING.append((namespace(index).stack([index.min(), index.max()]), low, high, message))
    if len(_PENDING) >= _PENDING_LIMIT:
        flush_checks()


def flush_checks() -> None:
    """Read the queued GPU index checks (one transfer) and raise the first that failed."""
    if not _PENDING:
        return
    pending = _PENDING[:]
    _PENDING.clear()
    bounds = namespace(pending[0][0]).stack([p[0] for p in pending]).get()  # one host sync
    for (lo, hi), (_, low, high, message) in zip(bounds.tolist(), pending, strict=True):
        if lo < low or hi >= high:
            raise IndexError(message.format(lo if lo < low else hi) + " (found at the first "
                             "host read after it: a GPU wraps such an index around)")


def is_array(a: Any) -> bool:
    return type(a) is ndarray or isinstance(a, ndarray) or on_device(a)


def array_of(a: Any) -> Any:
    """An op's result as an array of its library (NumPy gives 0-d results as scalars)."""
    return a if is_array(a) else numpy.asarray(a)


def writable_fresh(a: Any) -> bool:
    """Whether ``a`` owns its memory and may be written into (a gradient may be added
    in place into it)."""
    if a.base is not None:
        return False
    return bool(a.flags.writeable) if type(a) is ndarray else True


def zeros_of(shape: Sequence[int], dtype: Any, like: Any) -> Array:
    return namespace(like).zeros(shape, dtype=dtype)


def empty_of(shape: Sequence[int], dtype: Any, like: Any) -> Array:
    return namespace(like).empty(shape, dtype=dtype)


def arange_of(n: int, like: Any) -> Array:
    return namespace(like).arange(n)


def eye_of(n: int, dtype: Any, like: Any) -> Array:
    return namespace(like).eye(n, dtype=dtype)


def result_type(a: Any, b: Any) -> Any:
    """The dtype NumPy's promotion gives ``a`` and ``b`` (arrays of any library, or numbers)."""
    return numpy.result_type(getattr(a, "dtype", a), getattr(b, "dtype", b))


# ---------------------------------------------------------------- the rules' namespace
exp = xp.exp
log = xp.log
sqrt = xp.sqrt
sin = xp.sin
cos = xp.cos
tanh = xp.tanh
abs = xp.abs
sign = xp.sign
where = xp.where
maximum = xp.maximum
minimum = xp.minimum
matmul = xp.matmul
concatenate = xp.concatenate
_add_reduce: Any = xp.add.reduce  # the C entry point behind ndarray.sum, without its Python layer
zeros_like = xp.zeros_like
ones_like = xp.ones_like


def reshape(a: Array, shape: Sequence[int]) -> Array:
    return a.reshape(shape)


def expand_dims(a: Array, axes: int | tuple[int, ...]) -> Array:
    """Insert axes of size 1 (a reshape: cheaper than NumPy's general version)."""
    axes = axes if isinstance(axes, tuple) else (axes,)
    nd = a.ndim + len(axes)
    shape = list(a.shape)
    for ax in sorted(ax % nd for ax in axes):
        shape.insert(ax, 1)
    return a.reshape(shape)


def sum(a: Array, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Array:
    return _add_reduce(a, axis=axis, keepdims=keepdims)


def swapaxes(a: Array, i: int, j: int) -> Array:
    return a.swapaxes(i, j)


def transpose(a: Array, axes: Sequence[int]) -> Array:
    return a.transpose(axes)


def broadcast_to(a: Array, shape: Sequence[int]) -> Array:
    """``a`` repeated to ``shape``, as a new writeable array (a gradient gets written to)."""
    out = empty_of(shape, getattr(a, "dtype", None), a)
    out[...] = a
    return out


def prod(a: Array, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Array:
    return a.prod(axis=axis, keepdims=keepdims)


def sum_to(a: Array, shape: tuple[int, ...], keep: int = 0) -> Array:
    """Sum ``a`` down to ``shape``: the adjoint of broadcasting ``shape`` up to ``a.shape``.

    The first ``keep`` axes of ``a`` are batch axes and stay as they are.
    """
    target = a.shape[:keep] + tuple(shape) if keep else tuple(shape)
    extra = a.ndim - len(target)
    if not keep and a.shape[extra:] == target:  # only leading axes to sum (e.g. a bias)
        if not extra:
            return a
        return _add_reduce(a, axis=0 if extra == 1 else tuple(range(extra)))
    if a.shape == target:
        return a
    start = keep + extra
    axes = tuple(range(keep, start)) + tuple(
        start + i for i, n in enumerate(shape) if n == 1 and a.shape[start + i] != 1
    )
    out = _add_reduce(a, axis=axes, keepdims=True) if axes else a
    return out.reshape(target)


_erf_ufunc = numpy.frompyfunc(math.erf, 1, 1)


def erf(a: Array) -> Array:
    """The error function, elementwise (cupyx's on a GPU; SciPy's when installed, else
    the math module's)."""
    if on_device(a):
        return _CUDA[0][1].scipy.special.erf(a)
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:  # pragma: no cover - depends on the environment
        arr = xp.asarray(a)
        dtype = arr.dtype if arr.dtype.kind == "f" else xp.float64
        return xp.asarray(_erf_ufunc(arr), dtype=dtype)
    return scipy_erf(a)


def index_add(values: Array, shape: tuple[int, ...], index: Any) -> Array:
    """Zeros of ``shape`` with ``values`` added at ``index``; repeated indices accumulate."""
    out = zeros_of(shape, values.dtype, values)
    if _is_basic(index):
        out[index] = values
    elif on_device(out):
        _CUDA[0][1].scatter_add(out, index, values)  # CuPy: in no fixed order
    else:
        xp.add.at(out, index, values)
    return out


def pad(a: Array, widths: Any, value: float = 0.0) -> Array:
    return xp.pad(a, widths, constant_values=value)


def _is_basic(index: Any) -> bool:
    """True for an index of slices, ints, None and Ellipsis only (no element repeats)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        i is None or i is Ellipsis or isinstance(i, (slice, int, numpy.integer)) for i in items
    )


def windows2d(x: Array, kernel: tuple[int, int], stride: tuple[int, int]) -> Array:
    """A read-only strided view ``(..., C, kh, kw, Ho, Wo)`` of every kernel window of ``x``."""
    *lead, h, w = x.shape
    kh, kw = kernel
    sh, sw = stride
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    s = x.strides
    shape = (*lead, kh, kw, ho, wo)
    strides = (*s[:-2], s[-2], s[-1], s[-2] * sh, s[-1] * sw)
    if on_device(x):  # CuPy's as_strided has no writeable= (nothing writes into it here)
        return _CUDA[0][0].lib.stride_tricks.as_strided(x, shape=shape, strides=strides)
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides, writeable=False)


def conv_out_size(
    size: Pair, kernel: Pair, stride: Pair, padding: Pair
) -> Pair:
    return (
        (size[0] + 2 * padding[0] - kernel[0]) // stride[0] + 1,
        (size[1] + 2 * padding[1] - kernel[1]) // stride[1] + 1,
    )


def unfold2d(x: Array, kernel: Pair, stride: Pair, padding: Pair) -> Array:
    """Every kernel window of ``x`` (..., C, H, W) as a column: (..., C·kh·kw, L) (im2col)."""
    ph, pw = padding
    if ph or pw:
        x = xp.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])
    win = windows2d(x, kernel, stride)  # (..., C, kh, kw, Ho, Wo)
    *pre, c, kh, kw, ho, wo = win.shape
    return win.reshape(*pre, c * kh * kw, ho * wo)


def fold2d(cols: Array, size: Pair, kernel: Pair, stride: Pair, padding: Pair) -> Array:
    """The adjoint of ``unfold2d``: add each column back into the window it came from."""
    kh, kw = kernel
    sh, sw = stride
    ho, wo = conv_out_size(size, kernel, stride, padding)
    *pre, ck, _ = cols.shape
    c = ck // (kh * kw)
    blocks = cols.reshape(*pre, c, kh, kw, ho, wo)
    hp, wp = size[0] + 2 * padding[0], size[1] + 2 * padding[1]
    out = zeros_of((*pre, c, hp, wp), cols.dtype, cols)
    for i in range(kh):  # one strided add per kernel offset, vectorized over all windows
        for j in range(kw):
            out[..., i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw] += blocks[
                ..., i, j, :, :
            ]
    return out[..., padding[0] : padding[0] + size[0], padding[1] : padding[1] + size[1]]
