"""The table that drives the op tests: one entry per operation (or per calling form).

Each entry has the operation as a function of Tensors, a NumPy reference for
its value, and a hypothesis strategy for its inputs (``Sample``): the float
arrays the function is differentiated with respect to, and any other
parameters (axes, indices, constants). Adding an op here adds it to the
value, gradcheck, gradgradcheck, backward and forward-mode tests.

Strategies take a ``Size`` so the second-order tests can ask for smaller
inputs. Inputs keep away from kinks and ties (see ``tests/strategies.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

import chainrule as cr
from chainrule.ops import shape as shape_ops
from strategies import (
    NEAR_ONE,
    NONZERO,
    POSITIVE,
    REAL,
    WIDE,
    Domain,
    arrays,
    arrays_with_zeros,
    axes,
    basic_indices,
    broadcastable_shapes,
    distinct_arrays,
    grid_arrays,
    index_arrays,
    masks,
    nonempty_slices,
    reduced_size,
    shapes,
    size_of,
)


@dataclass(frozen=True)
class Size:
    max_dims: int
    max_side: int


FIRST = Size(max_dims=3, max_side=4)
SECOND = Size(max_dims=2, max_side=3)


@dataclass
class Sample:
    arrays: tuple[np.ndarray, ...]
    params: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        shapes_ = [a.shape for a in self.arrays]
        return f"Sample(shapes={shapes_}, params={self.params!r}, arrays={self.arrays!r})"


SampleStrategy = Callable[[Size], st.SearchStrategy[Sample]]


@dataclass(frozen=True)
class OpCase:
    name: str
    fn: Callable[..., cr.Tensor]  # fn(*tensors, **params)
    ref: Callable[..., np.ndarray]  # ref(*arrays, **params), NumPy only
    sample: SampleStrategy
    second_order: bool = True

    def __repr__(self) -> str:
        return self.name


# ---------------------------------------------------------------- sample builders
def _shape(size: Size, min_dims: int = 0) -> st.SearchStrategy[tuple[int, ...]]:
    return shapes(min_dims=min_dims, max_dims=size.max_dims, max_side=size.max_side)


def one(domain: Domain = REAL, min_dims: int = 0) -> SampleStrategy:
    return lambda size: arrays(_shape(size, min_dims), domain).map(lambda a: Sample((a,)))


def two(da: Domain = REAL, db: Domain = REAL) -> SampleStrategy:
    @st.composite
    def draw_sample(draw: Any, size: Size) -> Sample:
        sa, sb = draw(broadcastable_shapes(2, max_dims=size.max_dims, max_side=size.max_side))
        return Sample((draw(arrays(sa, da)), draw(arrays(sb, db))))

    return draw_sample


def untied_pair(size: Size) -> st.SearchStrategy[Sample]:
    """Two broadcastable arrays on interleaved grids: never equal anywhere."""

    @st.composite
    def draw_sample(draw: Any) -> Sample:
        sa, sb = draw(broadcastable_shapes(2, max_dims=size.max_dims, max_side=size.max_side))
        return Sample((draw(grid_arrays(sa, 0.25)), draw(grid_arrays(sb, 0.75))))

    return draw_sample()


def with_constant(domain: Domain = REAL) -> SampleStrategy:
    """A differentiable array and a broadcastable ndarray constant ``c``."""

    @st.composite
    def draw_sample(draw: Any, size: Size) -> Sample:
        sa, sc = draw(broadcastable_shapes(2, max_dims=size.max_dims, max_side=size.max_side))
        return Sample((draw(arrays(sa, domain)),), {"c": draw(arrays(sc, REAL))})

    return draw_sample


def where_sample(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        sc, sa, sb = draw(broadcastable_shapes(3, max_dims=size.max_dims,
                                               max_side=size.max_side))
        cond = draw(arrays(sc, Domain(-1, 1))) > 0
        return Sample((draw(arrays(sa)), draw(arrays(sb))), {"cond": cond})

    return draw_sample()


def clip_sample(lo: bool, hi: bool) -> SampleStrategy:
    @st.composite
    def draw_sample(draw: Any, size: Size) -> Sample:
        x = draw(grid_arrays(draw(_shape(size)), 0.5))  # never on a bound (bounds are ints)
        low = draw(st.integers(-3, 0)) if lo else None
        high = draw(st.integers(0, 3)) if hi else None
        return Sample((x,), {"lo": low, "hi": high})

    return draw_sample


ArraysOf = Callable[[tuple[int, ...]], st.SearchStrategy[np.ndarray]]


def reduction(
    domain: Domain | ArraysOf | None = REAL, *, min_reduced: int = 1, allow_empty: bool = True
) -> SampleStrategy:
    """One array and ``axis``/``keepdims``. ``domain`` is a value domain, a function
    from a shape to an array strategy, or ``None`` for tie-free arrays."""

    @st.composite
    def draw_sample(draw: Any, size: Size) -> Sample:
        shape = draw(_shape(size))
        axis = draw(axes(len(shape), allow_empty=allow_empty))
        if reduced_size(shape, axis) < min_reduced:
            # add a trailing axis of 2 that the reduction always covers (negative axes
            # drawn for the old shape move one further from the end)
            shape = shape + (2,)
            if isinstance(axis, int):
                axis = (axis - 1 if axis < 0 else axis, -1)
            elif isinstance(axis, tuple):
                axis = tuple(a - 1 if a < 0 else a for a in axis) + (-1,)
        if domain is None:
            x = draw(distinct_arrays(shape))
        elif isinstance(domain, Domain):
            x = draw(arrays(shape, domain))
        else:
            x = draw(domain(shape))
        return Sample((x,), {"axis": axis, "keepdims": draw(st.booleans())})

    return draw_sample


def along_axis(domain: Domain = REAL) -> SampleStrategy:
    @st.composite
    def draw_sample(draw: Any, size: Size) -> Sample:
        shape = draw(_shape(size, min_dims=1))
        x = draw(arrays(shape, domain))
        return Sample((x,), {"axis": draw(st.integers(-len(shape), len(shape) - 1))})

    return draw_sample


# ---------------------------------------------------------------- shape-op samples
def reshape_sample(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        shape = draw(_shape(size))
        n = size_of(shape)
        targets = [(-1,), (n, 1), (1,) + shape, shape[::-1], (1, -1)]
        if len(shape) >= 2:
            targets.append((shape[0] * shape[1],) + shape[2:])
        return Sample((draw(arrays(shape)),), {"shape": draw(st.sampled_from(targets))})

    return draw_sample()


def two_axes(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        shape = draw(_shape(size, min_dims=1))
        nd = len(shape)
        d0, d1 = draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1))
        return Sample((draw(arrays(shape)),), {"dim0": d0, "dim1": d1})

    return draw_sample()


def permutation(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        shape = draw(_shape(size))
        perm = tuple(draw(st.permutations(range(len(shape)))))
        if perm and draw(st.booleans()):
            perm = tuple(p - len(shape) for p in perm)  # negative axes are allowed
        return Sample((draw(arrays(shape)),), {"perm": perm})

    return draw_sample()


def expansion(size: Size) -> st.SearchStrategy[Sample]:
    """A shape with some size-1 axes, and a target that grows them and adds leading axes."""

    @st.composite
    def draw_sample(draw: Any) -> Sample:
        small = draw(shapes(max_dims=size.max_dims, max_side=size.max_side))
        ones = tuple(1 if draw(st.booleans()) else n for n in small)
        grown = tuple(draw(st.integers(1, 3)) if n == 1 else n for n in ones)
        lead = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
        return Sample((draw(arrays(ones)),), {"shape": lead + grown})

    return draw_sample()


def squeezable(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        base = list(draw(_shape(size)))
        for _ in range(draw(st.integers(1, 2))):
            base.insert(draw(st.integers(0, len(base))), 1)
        shape = tuple(base)
        unit = [i for i, n in enumerate(shape) if n == 1]
        axis = draw(st.sampled_from([None, *unit, *(i - len(shape) for i in unit)]))
        return Sample((draw(arrays(shape)),), {"axis": axis})

    return draw_sample()


def insert_axis(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        shape = draw(_shape(size))
        nd = len(shape) + 1
        return Sample((draw(arrays(shape)),), {"axis": draw(st.integers(-nd, nd - 1))})

    return draw_sample()


def flatten_sample(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        shape = draw(_shape(size, min_dims=1))
        nd = len(shape)
        start = draw(st.integers(0, nd - 1))
        end = draw(st.integers(start, nd - 1))
        if draw(st.booleans()):
            end -= nd
        return Sample((draw(arrays(shape)),), {"start": start, "end": end})

    return draw_sample()


def basic_getitem(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        shape = draw(_shape(size))
        return Sample((draw(arrays(shape)),), {"index": draw(basic_indices(shape))})

    return draw_sample()


def int_array_getitem(size: Size) -> st.SearchStrategy[Sample]:
    """An integer array (1-D or 2-D, with repeats) on one axis, whole slices elsewhere."""

    @st.composite
    def draw_sample(draw: Any) -> Sample:
        shape = draw(_shape(size, min_dims=1))
        ax = draw(st.integers(0, len(shape) - 1))
        idx = draw(index_arrays(shape[ax], ndim=draw(st.sampled_from([1, 2]))))
        as_list = draw(st.booleans()) and idx.ndim == 1
        index = (slice(None),) * ax + (idx.tolist() if as_list else idx,)
        return Sample((draw(arrays(shape)),), {"index": index})

    return draw_sample()


def mask_getitem(size: Size) -> st.SearchStrategy[Sample]:
    """A boolean mask over the leading axes (all of them, or some)."""

    @st.composite
    def draw_sample(draw: Any) -> Sample:
        shape = draw(_shape(size, min_dims=1))
        k = draw(st.integers(1, len(shape)))
        mask = draw(masks(shape[:k]))
        index: Any = mask if draw(st.booleans()) else (mask, Ellipsis)
        return Sample((draw(arrays(shape)),), {"index": index})

    return draw_sample()


def mixed_getitem(size: Size) -> st.SearchStrategy[Sample]:
    """Advanced indices mixed with slices, None and Ellipsis, adjacent or split."""

    @st.composite
    def draw_sample(draw: Any) -> Sample:
        shape = draw(shapes(min_dims=2, max_dims=max(size.max_dims, 2),
                            max_side=size.max_side))
        a0 = draw(index_arrays(shape[0]))
        a1 = draw(index_arrays(shape[1], max_len=len(a0) - 1))[: len(a0)]
        a1 = np.resize(a1, a0.shape)  # same length: they broadcast together
        s1 = draw(nonempty_slices(shape[1]))
        rest = (slice(None),) * (len(shape) - 2)
        m0 = draw(masks(shape[:1]))
        choices = [
            (a0, s1) + rest,  # advanced, then basic
            (slice(None), a1) + rest,  # basic, then advanced
            (a0, None, Ellipsis),
            (Ellipsis, a0[:, None]) if shape[-1] == shape[0] else (a0, Ellipsis),
            (m0, slice(None, None, -1)),
            (a0, a1) + rest,  # two advanced indices, adjacent
        ]
        if len(shape) >= 3:
            a2 = np.resize(draw(index_arrays(shape[2])), a0.shape)
            choices.append((a0, slice(None), a2))  # split by a slice: moved to the front
            choices.append((a0, s1, a2[:1]))
        return Sample((draw(arrays(shape)),), {"index": draw(st.sampled_from(choices))})

    return draw_sample()


def concat_sample(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        base = list(draw(_shape(size, min_dims=1)))
        nd = len(base)
        axis = draw(st.integers(-nd, nd - 1))
        parts = []
        for _ in range(draw(st.integers(1, 3))):
            base[axis] = draw(st.integers(1, size.max_side))
            parts.append(draw(arrays(tuple(base))))
        return Sample(tuple(parts), {"axis": axis})

    return draw_sample()


def stack_sample(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        shape = draw(_shape(size))
        nd = len(shape) + 1
        parts = tuple(draw(arrays(shape)) for _ in range(draw(st.integers(1, 3))))
        return Sample(parts, {"axis": draw(st.integers(-nd, nd - 1))})

    return draw_sample()


def split_sample(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        shape = list(draw(_shape(size, min_dims=1)))
        axis = draw(st.integers(0, len(shape) - 1))
        if draw(st.booleans()):
            k = draw(st.integers(1, 3))
            shape[axis] = k * draw(st.integers(1, 2))
            sections: Any = k
        else:
            cuts = draw(st.lists(st.integers(0, shape[axis]), max_size=2))
            sections = sorted(cuts)
        return Sample((draw(arrays(tuple(shape))),), {"sections": sections, "axis": axis})

    return draw_sample()


def pad_sample(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        shape = draw(_shape(size, min_dims=1))
        widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
        value = draw(st.sampled_from([0.0, -1.5]))
        return Sample((draw(arrays(shape)),), {"widths": widths, "value": value})

    return draw_sample()


def matmul_sample(size: Size) -> st.SearchStrategy[Sample]:
    """Matrices with broadcasting batch axes, or 1-D vectors, on either side."""

    @st.composite
    def draw_sample(draw: Any) -> Sample:
        side = st.integers(1, size.max_side)
        m, k, n = draw(side), draw(side), draw(side)
        ba, bb = draw(broadcastable_shapes(2, max_dims=size.max_dims - 1, max_side=3))
        a_shape = (k,) if draw(st.booleans()) else ba + (m, k)
        b_shape = (k,) if draw(st.booleans()) else bb + (k, n)
        return Sample((draw(arrays(a_shape)), draw(arrays(b_shape))))

    return draw_sample()


def linear_sample(size: Size) -> st.SearchStrategy[Sample]:
    """An input (any leading axes, or one vector), a weight (out, in) and a bias (out,)."""

    @st.composite
    def draw_sample(draw: Any) -> Sample:
        side = st.integers(1, size.max_side)
        k, n = draw(side), draw(side)
        lead = draw(_shape(size))[: size.max_dims - 1]
        return Sample((draw(arrays(lead + (k,))), draw(arrays((n, k))), draw(arrays((n,)))))

    return draw_sample()


def _conv_geometry(draw: Any) -> dict[str, Any]:
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    hw = tuple(draw(st.integers(max(1, k - 2 * p), k + 2))
               for k, p in zip(kernel, padding, strict=True))
    return {"kernel": kernel, "stride": stride, "padding": padding, "hw": hw}


def unfold_sample(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        g = _conv_geometry(draw)
        lead = (draw(st.integers(1, 2)),) if draw(st.booleans()) else ()
        shape = lead + (draw(st.integers(1, 2)),) + g.pop("hw")
        return Sample((draw(arrays(shape)),), g)

    return draw_sample()


def fold_sample(size: Size) -> st.SearchStrategy[Sample]:
    @st.composite
    def draw_sample(draw: Any) -> Sample:
        g = _conv_geometry(draw)
        hw = g["hw"]
        (kh, kw), (sh, sw), (ph, pw) = g["kernel"], g["stride"], g["padding"]
        ho = (hw[0] + 2 * ph - kh) // sh + 1
        wo = (hw[1] + 2 * pw - kw) // sw + 1
        c = draw(st.integers(1, 2))
        shape = (draw(st.integers(1, 2)), c * kh * kw, ho * wo)
        return Sample((draw(arrays(shape)),), g)

    return draw_sample()


def cross_entropy_sample(size: Size) -> st.SearchStrategy[Sample]:
    """Logits (N, C), class indices and a reduction."""

    @st.composite
    def draw_sample(draw: Any) -> Sample:
        n, c = draw(st.integers(1, size.max_side)), draw(st.integers(2, size.max_side + 1))
        target = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
        reduction = draw(st.sampled_from(["mean", "sum", "none"]))
        return Sample((draw(arrays((n, c), WIDE)),), {"target": target, "reduction": reduction})

    return draw_sample()


def sum_to_sample(size: Size) -> st.SearchStrategy[Sample]:
    """An array and a shape it sums down to (the adjoint of broadcasting)."""
    return expansion(size).map(
        lambda s: Sample((np.broadcast_to(s.arrays[0], s.params["shape"]).copy(),),
                         {"shape": s.arrays[0].shape}))


def index_add_sample(size: Size) -> st.SearchStrategy[Sample]:
    """Values and where they go: zeros of ``shape`` with the values added at ``index``."""

    def to_values(s: Sample) -> Sample:
        x, index = s.arrays[0], s.params["index"]
        index = tuple(np.asarray(i) if isinstance(i, list) else i for i in index)
        values = np.random.default_rng(0).uniform(-2, 2, x[index].shape)
        return Sample((values,), {"shape": x.shape, "index": index})

    return int_array_getitem(size).map(to_values)


# ---------------------------------------------------------------- NumPy references
def _lse(a: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    shift = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(a: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _unfold_ref(x: np.ndarray, kernel: Any, stride: Any, padding: Any) -> np.ndarray:
    """im2col by loops, in PyTorch's layout: (..., C*kh*kw, L)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp_ = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])
    ho = (xp_.shape[-2] - kh) // sh + 1
    wo = (xp_.shape[-1] - kw) // sw + 1
    cols = []
    for i in range(ho):
        for j in range(wo):
            win = xp_[..., i * sh : i * sh + kh, j * sw : j * sw + kw]  # (..., C, kh, kw)
            cols.append(win.reshape(win.shape[:-3] + (-1,)))
    return np.stack(cols, axis=-1)


def _fold_ref(cols: np.ndarray, hw: Any, kernel: Any, stride: Any, padding: Any
              ) -> np.ndarray:
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, ck, _ = cols.shape
    c = ck // (kh * kw)
    out = np.zeros((n, c, hw[0] + 2 * ph, hw[1] + 2 * pw))
    ho = (hw[0] + 2 * ph - kh) // sh + 1
    wo = (hw[1] + 2 * pw - kw) // sw + 1
    for i in range(ho):
        for j in range(wo):
            block = cols[:, :, i * wo + j].reshape(n, c, kh, kw)
            out[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw] += block
    return out[:, :, ph : ph + hw[0], pw : pw + hw[1]]


def _split_cat(parts: list[Any], cat: Callable[..., Any], axis: int) -> Any:
    # weight each part differently so a gradient sent to the wrong part shows
    return cat([p * float(i + 1) for i, p in enumerate(parts)], axis)


def _keep_with_minus_one(old: tuple[int, ...], new: tuple[int, ...]) -> tuple[int, ...]:
    """``new`` with -1 (PyTorch's "keep this size") wherever the size does not change."""
    lead = len(new) - len(old)
    return new[:lead] + tuple(-1 if n == s else s for n, s in zip(old, new[lead:], strict=True))


def two_dims(size: Size) -> st.SearchStrategy[Sample]:
    return arrays(shapes(min_dims=2, max_dims=2, max_side=size.max_side)).map(
        lambda a: Sample((a,)))


def _cross_entropy_ref(x: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
    losses = _lse(x, -1) - x[np.arange(len(x)), target]
    return {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]


def _index_add_ref(v: np.ndarray, shape: tuple, index: tuple) -> np.ndarray:
    out = np.zeros(shape)
    np.add.at(out, index, v)
    return out


# ---------------------------------------------------------------- the table
def _unary(name: str, domain: Domain, ref: Callable[..., np.ndarray]) -> OpCase:
    fn = getattr(cr, name)
    return OpCase(name, lambda x: fn(x), ref, one(domain))


def _method(name: str, domain: Domain, ref: Callable[..., np.ndarray]) -> OpCase:
    return OpCase(f"Tensor.{name}", lambda x: getattr(x, name)(), ref, one(domain))


def _reduce(name: str, domain: Domain | ArraysOf | None, ref: Callable[..., np.ndarray],
            **kw: Any) -> OpCase:
    fn = getattr(cr, name)
    return OpCase(
        name,
        lambda x, axis, keepdims: fn(x, axis=axis, keepdims=keepdims),
        ref,
        reduction(domain, **kw),
    )


CASES: list[OpCase] = [
    # binary elementwise, with broadcasting
    OpCase("add", lambda a, b: a + b, np.add, two()),
    OpCase("sub", lambda a, b: a - b, np.subtract, two()),
    OpCase("mul", lambda a, b: a * b, np.multiply, two()),
    OpCase("div", lambda a, b: a / b, np.divide, two(REAL, NONZERO)),
    OpCase("pow", lambda a, b: a**b, np.power, two(POSITIVE, REAL)),
    OpCase("maximum", cr.maximum, np.maximum, untied_pair),
    OpCase("minimum", cr.minimum, np.minimum, untied_pair),
    OpCase("Tensor.maximum", lambda a, b: a.maximum(b), np.maximum, untied_pair),
    OpCase("where", lambda a, b, cond: cr.where(cond, a, b),
           lambda a, b, cond: np.where(cond, a, b), where_sample),
    OpCase("where-tensor-cond", lambda a, b, cond: cr.where(cr.tensor(cond), a, b),
           lambda a, b, cond: np.where(cond, a, b), where_sample),
    # with Python numbers and NumPy constants, reflected forms included
    OpCase("radd", lambda a: 2.5 + a, lambda a: 2.5 + a, one()),
    OpCase("rsub", lambda a: 2.5 - a, lambda a: 2.5 - a, one()),
    OpCase("sub-number", lambda a: a - 1.5, lambda a: a - 1.5, one()),
    OpCase("rmul", lambda a: -1.5 * a, lambda a: -1.5 * a, one()),
    OpCase("rdiv", lambda a: 2.5 / a, lambda a: 2.5 / a, one(NONZERO)),
    OpCase("div-number", lambda a: a / -1.5, lambda a: a / -1.5, one()),
    OpCase("pow-int", lambda a: a**3, lambda a: a**3, one()),
    OpCase("pow-square", lambda a: a**2.0, lambda a: a**2.0, one()),
    OpCase("pow-float", lambda a: a**1.5, lambda a: a**1.5, one(POSITIVE)),
    OpCase("pow-negative", lambda a: a**-2.5, lambda a: a**-2.5, one(POSITIVE)),
    OpCase("rpow", lambda a: 1.7**a, lambda a: 1.7**a, one()),
    OpCase("neg", lambda a: -a, np.negative, one()),
    OpCase("mul-ndarray", lambda a, c: a * c, lambda a, c: a * c, with_constant()),
    OpCase("ndarray-sub", lambda a, c: c - a, lambda a, c: c - a, with_constant()),
    OpCase("ndarray-div", lambda a, c: c / a, lambda a, c: c / a, with_constant(NONZERO)),
    OpCase("ndarray-pow", lambda a, c: a**c, lambda a, c: a**c, with_constant(POSITIVE)),
    # unary elementwise
    _unary("exp", REAL, np.exp),
    _unary("log", POSITIVE, np.log),
    _unary("log1p", POSITIVE, np.log1p),
    _unary("sqrt", POSITIVE, np.sqrt),
    _unary("tanh", WIDE, np.tanh),
    _unary("sigmoid", WIDE, lambda a: 1 / (1 + np.exp(-a))),
    _unary("relu", NONZERO, lambda a: np.maximum(a, 0)),
    _unary("abs", NONZERO, np.abs),
    _unary("sin", WIDE, np.sin),
    _unary("cos", WIDE, np.cos),
    _unary("erf", REAL, _erf),
    _method("exp", REAL, np.exp),
    _method("log", POSITIVE, np.log),
    _method("relu", NONZERO, lambda a: np.maximum(a, 0)),
    _method("sigmoid", WIDE, lambda a: 1 / (1 + np.exp(-a))),
    OpCase("abs()", lambda a: abs(a), np.abs, one(NONZERO)),
    OpCase("clip", lambda x, lo, hi: cr.clip(x, lo, hi), lambda x, lo, hi: np.clip(x, lo, hi),
           clip_sample(True, True)),
    OpCase("clip-lo", lambda x, lo, hi: x.clip(lo, hi),
           lambda x, lo, hi: np.maximum(x, lo), clip_sample(True, False)),
    OpCase("clip-hi", lambda x, lo, hi: cr.clip(x, hi=hi),
           lambda x, lo, hi: np.minimum(x, hi), clip_sample(False, True)),
    # reductions over axis None / int / tuple, with and without keepdims
    _reduce("sum", REAL, np.sum),
    _reduce("mean", REAL, np.mean),
    _reduce("max", None, np.max),
    _reduce("min", None, np.min),
    _reduce("var", REAL, np.var),
    _reduce("std", None, np.std, min_reduced=2, allow_empty=False),
    _reduce("logsumexp", WIDE, _lse),
    _reduce("prod", NEAR_ONE, np.prod),
    OpCase("prod-with-zeros", lambda x, axis, keepdims: cr.prod(x, axis, keepdims), np.prod,
           reduction(arrays_with_zeros)),
    OpCase("Tensor.sum", lambda x, axis, keepdims: x.sum(axis, keepdims), np.sum, reduction()),
    OpCase("Tensor.max", lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
           np.max, reduction(None)),
    OpCase("var-ddof1", lambda x, axis, keepdims: cr.var(x, axis, keepdims, ddof=1),
           lambda x, axis, keepdims: np.var(x, axis=axis, keepdims=keepdims, ddof=1),
           reduction(REAL, min_reduced=2, allow_empty=False)),
    OpCase("Tensor.std", lambda x, axis, keepdims: x.std(axis=axis, keepdims=keepdims),
           np.std, reduction(None, min_reduced=2, allow_empty=False)),
    OpCase("softmax", lambda x, axis: cr.softmax(x, axis), _softmax, along_axis(WIDE)),
    OpCase("log_softmax", lambda x, axis: cr.log_softmax(x, axis),
           lambda x, axis: np.log(_softmax(x, axis)), along_axis(WIDE)),
    OpCase("Tensor.softmax", lambda x, axis: x.softmax(axis), _softmax, along_axis()),
    # shape ops
    OpCase("reshape", lambda x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape),
           reshape_sample),
    OpCase("reshape-varargs", lambda x, shape: x.reshape(*shape),
           lambda x, shape: x.reshape(shape), reshape_sample),
    OpCase("cr.reshape", lambda x, shape: cr.reshape(x, shape),
           lambda x, shape: x.reshape(shape), reshape_sample),
    OpCase("view", lambda x, shape: x.view(shape), lambda x, shape: x.reshape(shape),
           reshape_sample),
    OpCase("transpose", lambda x, dim0, dim1: x.transpose(dim0, dim1),
           lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1), two_axes),
    OpCase("cr.transpose", lambda x, dim0, dim1: cr.transpose(x, dim0, dim1),
           lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1), two_axes),
    OpCase("permute", lambda x, perm: x.permute(perm), lambda x, perm: x.transpose(perm),
           permutation),
    OpCase("permute-varargs", lambda x, perm: x.permute(*perm),
           lambda x, perm: x.transpose(perm), permutation),
    OpCase(".T", lambda x: x.T, lambda x: x.T, one()),
    OpCase("expand", lambda x, shape: x.expand(*shape),
           lambda x, shape: np.broadcast_to(x, shape), expansion),
    OpCase("expand-minus-one", lambda x, shape: x.expand(_keep_with_minus_one(x.shape, shape)),
           lambda x, shape: np.broadcast_to(x, shape), expansion),
    OpCase("broadcast_to", lambda x, shape: cr.broadcast_to(x, shape),
           lambda x, shape: np.broadcast_to(x, shape), expansion),
    OpCase("squeeze", lambda x, axis: x.squeeze(axis), lambda x, axis: np.squeeze(x, axis),
           squeezable),
    OpCase("unsqueeze", lambda x, axis: x.unsqueeze(axis),
           lambda x, axis: np.expand_dims(x, axis), insert_axis),
    OpCase("flatten", lambda x, start, end: x.flatten(start, end),
           lambda x, start, end: x.reshape(
               x.shape[:start] + (-1,) + x.shape[end % x.ndim + 1 :]), flatten_sample),
    OpCase("flatten()", lambda x: x.flatten(), lambda x: x.reshape(-1), one()),
    OpCase("getitem-basic", lambda x, index: x[index], lambda x, index: x[index],
           basic_getitem),
    OpCase("getitem-int-array", lambda x, index: x[index],
           lambda x, index: x[tuple(np.asarray(i) if isinstance(i, list) else i
                                    for i in index)], int_array_getitem),
    OpCase("getitem-int-tensor",
           lambda x, index: x[tuple(cr.tensor(i) if isinstance(i, np.ndarray) else i
                                    for i in index)],
           lambda x, index: x[tuple(np.asarray(i) if isinstance(i, list) else i
                                    for i in index)], int_array_getitem),
    OpCase("getitem-mask", lambda x, index: x[index], lambda x, index: x[index],
           mask_getitem),
    OpCase("getitem-mixed", lambda x, index: x[index], lambda x, index: x[index],
           mixed_getitem),
    OpCase("concatenate", lambda *xs, axis: cr.concatenate(list(xs), axis),
           lambda *xs, axis: np.concatenate(xs, axis), concat_sample),
    OpCase("stack", lambda *xs, axis: cr.stack(xs, axis),
           lambda *xs, axis: np.stack(xs, axis), stack_sample),
    OpCase("split", lambda x, sections, axis: _split_cat(cr.split(x, sections, axis),
                                                         cr.concatenate, axis),
           lambda x, sections, axis: _split_cat(np.split(x, sections, axis),
                                                np.concatenate, axis), split_sample),
    OpCase("pad", lambda x, widths, value: cr.pad(x, widths, value),
           lambda x, widths, value: np.pad(x, widths, constant_values=value), pad_sample),
    OpCase("Tensor.pad", lambda x, widths, value: x.pad(widths, value),
           lambda x, widths, value: np.pad(x, widths, constant_values=value), pad_sample),
    # matrix products
    OpCase("matmul", lambda a, b: a @ b, np.matmul, matmul_sample),
    OpCase("linear", cr.nn.functional.linear, lambda x, w, b: x @ w.T + b, linear_sample),
    OpCase("cr.matmul", cr.matmul, np.matmul, matmul_sample),
    OpCase("rmatmul-ndarray", lambda b, c: c @ b, lambda b, c: c @ b,
           lambda size: matmul_sample(size).map(
               lambda s: Sample((s.arrays[1],), {"c": s.arrays[0]}))),
    # sliding windows
    OpCase("unfold2d",
           lambda x, kernel, stride, padding: cr.unfold2d(x, kernel, stride, padding),
           _unfold_ref, unfold_sample),
    OpCase("fold2d",
           lambda c, hw, kernel, stride, padding: cr.fold2d(c, hw, kernel, stride, padding),
           _fold_ref, fold_sample),
    # a softmax cross-entropy in one op
    OpCase("cross_entropy", lambda x, target, reduction: cr.nn.functional.cross_entropy(
        x, target, reduction=reduction), _cross_entropy_ref, cross_entropy_sample),
    # the engine's own primitives (they appear in the graphs of derivatives)
    OpCase("sum_to", lambda x, shape: x._apply(shape_ops.sum_to, x, shape=shape, keep=0),
           lambda x, shape: np.sum(x, axis=tuple(range(x.ndim - len(shape))) + tuple(
               x.ndim - len(shape) + i for i, n in enumerate(shape) if n == 1),
               keepdims=False).reshape(shape), sum_to_sample),
    OpCase("index_add", lambda v, shape, index: v._apply(
        shape_ops.index_add, v, shape=shape, index=index,
        split=shape_ops.splits_advanced(index)), _index_add_ref, index_add_sample),
    OpCase("identity", lambda x: x._apply(shape_ops.identity, x), lambda x: x, one()),
    OpCase("clone", lambda x: x.clone(), lambda x: x, one()),
    OpCase("to_device", lambda x: x._apply(shape_ops.to_device, x, device=x.device),
           lambda x: x, one()),
    # a cast there and back: extended precision keeps float64's numbers exactly
    OpCase("astype", lambda x: x.astype(np.longdouble).astype(x.dtype), lambda x: x, one()),
    # a composite, to see ops interact
    OpCase("composite", lambda x: ((x @ x.T).tanh() * x.sum(0, keepdims=True)[..., :1]
                                   ).logsumexp(-1),
           lambda x: _lse(np.tanh(x @ x.T) * x.sum(0, keepdims=True)[..., :1], -1),
           two_dims),
]

BY_NAME = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "op case names must be unique"
