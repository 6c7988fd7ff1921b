"""Shared pieces of the transform tests: a numerical oracle and a table of
functions that covers every op family."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import chainrule as cr


def arr(x: Any) -> np.ndarray:
    """The ndarray inside a Tensor (or the value itself), as float64."""
    return np.asarray(x.data if isinstance(x, cr.Tensor) else x, dtype=np.float64)


def numeric_jacobian(
    f: Callable[..., Any], args: Sequence[Any], argnum: int = 0, eps: float = 1e-6
) -> np.ndarray:
    """d f / d args[argnum] by central differences, shape ``out.shape + in.shape``.

    ``f`` is called on plain (non-differentiable) tensors built from copies of
    ``args``, so nothing here goes through the engine's derivative rules.
    """
    xs = [np.array(a, dtype=np.float64) for a in args]
    x = xs[argnum]
    flat = x.reshape(-1)

    def call() -> np.ndarray:
        with cr.no_grad():
            return arr(f(*[cr.tensor(v) for v in xs]))

    out_shape = call().shape
    cols = []
    for j in range(flat.size):
        keep = flat[j]
        flat[j] = keep + eps
        plus = call()
        flat[j] = keep - eps
        minus = call()
        flat[j] = keep
        cols.append(((plus - minus) / (2 * eps)).reshape(-1))
    jac = np.stack(cols, axis=1) if cols else np.zeros((int(np.prod(out_shape)), 0))
    return jac.reshape(out_shape + x.shape)


def assert_close(actual: Any, expected: Any, atol: float = 1e-6, rtol: float = 1e-5,
                 what: str = "") -> None:
    a, e = arr(actual), arr(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape}, expected {e.shape}"
    np.testing.assert_allclose(a, e, atol=atol, rtol=rtol, err_msg=what)


# ----------------------------------------------------------------------------- op table


@dataclass
class Case:
    """A function of one or more float64 inputs, differentiable near ``inputs``."""

    name: str
    fn: Callable[..., Any]
    make: Callable[[np.random.Generator], tuple[np.ndarray, ...]]
    linear: bool = False  # second derivatives vanish (still checked, through a non-linearity)
    tags: set[str] = field(default_factory=set)

    def inputs(self, seed: int = 0) -> tuple[np.ndarray, ...]:
        return self.make(np.random.default_rng(seed))


def _n(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda r: r.standard_normal(shape)


def _pos(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda r: r.uniform(0.5, 2.0, shape)


def _away(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    """Normal values pushed away from 0 (kinks of relu, abs)."""
    return lambda r: (lambda v: v + 0.3 * np.sign(v))(r.standard_normal(shape))


def _distinct(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    """A permutation of well-separated values (no ties for max/min/sort-like ops)."""
    return lambda r: r.permutation(np.arange(int(np.prod(shape))) * 0.37 - 1.1).reshape(shape)


def _inputs(*makers: Callable[[np.random.Generator], np.ndarray]
            ) -> Callable[[np.random.Generator], tuple[np.ndarray, ...]]:
    return lambda r: tuple(m(r) for m in makers)


def _case(name: str, fn: Callable[..., Any], *makers: Callable[[np.random.Generator], Any],
          linear: bool = False, tags: Sequence[str] = ()) -> Case:
    return Case(name, fn, _inputs(*makers), linear, set(tags))


IDX = np.array([2, 0, 2, 1])  # repeats: their gradients must accumulate

CASES: list[Case] = [
    # ---- elementwise unary
    _case("neg", lambda x: -x, _n(3, 2), linear=True, tags=["unary"]),
    _case("exp", cr.exp, _n(3, 2), tags=["unary"]),
    _case("log", cr.log, _pos(3, 2), tags=["unary"]),
    _case("sqrt", cr.sqrt, _pos(3, 2), tags=["unary"]),
    _case("tanh", cr.tanh, _n(3, 2), tags=["unary"]),
    _case("sigmoid", cr.sigmoid, _n(3, 2), tags=["unary"]),
    _case("relu", cr.relu, _away(3, 2), tags=["unary"]),
    _case("abs", cr.abs, _away(3, 2), tags=["unary"]),
    _case("sin", cr.sin, _n(3, 2), tags=["unary"]),
    _case("cos", cr.cos, _n(3, 2), tags=["unary"]),
    _case("erf", cr.erf, _n(3, 2), tags=["unary"]),
    _case("clip", lambda x: cr.clip(x, -0.5, 0.5) * x,
          lambda r: np.array([[-1.0, -0.2], [0.1, 0.9], [0.3, -0.8]]), tags=["unary"]),
    _case("pow_const", lambda x: x ** 3, _n(3, 2), tags=["unary"]),
    _case("rpow_const", lambda x: 2.0 ** x, _n(3, 2), tags=["unary"]),
    # ---- elementwise binary, with broadcasting
    _case("add_bcast", lambda a, b: a + b, _n(3, 1), _n(4), linear=True, tags=["binary"]),
    _case("sub_bcast", lambda a, b: a - b, _n(2, 3), _n(3), linear=True, tags=["binary"]),
    _case("mul_bcast", lambda a, b: a * b, _n(2, 1, 3), _n(4, 1), tags=["binary"]),
    _case("div_bcast", lambda a, b: a / b, _n(2, 3), _pos(3), tags=["binary"]),
    _case("rdiv_const", lambda a: 1.5 / a, _pos(2, 3), tags=["binary"]),
    _case("pow_bcast", lambda a, b: a ** b, _pos(2, 3), _n(3), tags=["binary"]),
    _case("maximum_bcast", lambda a, b: cr.maximum(a, b), _distinct(3, 1),
          lambda r: _distinct(4)(r) + 0.1,
          tags=["binary"]),
    _case("minimum", lambda a, b: cr.minimum(a, b), _distinct(2, 3),
          lambda r: _distinct(2, 3)(r) + 0.1, tags=["binary"]),
    _case("where_bcast", lambda a, b: cr.where(cr.tensor([[True], [False]]), a, b) * a,
          _n(2, 3), _n(3), tags=["binary"]),
    # ---- reductions with axes
    _case("sum_all", lambda x: x.sum(), _n(3, 4), linear=True, tags=["reduce"]),
    _case("sum_axis", lambda x: x.sum(axis=1), _n(2, 3, 4), linear=True, tags=["reduce"]),
    _case("sum_axes_keepdims", lambda x: x.sum(axis=(0, 2), keepdims=True), _n(2, 3, 4),
          linear=True, tags=["reduce"]),
    _case("mean_neg_axis", lambda x: x.mean(axis=-1), _n(3, 4), linear=True, tags=["reduce"]),
    _case("max_axis", lambda x: x.max(axis=0), _distinct(3, 4), tags=["reduce"]),
    _case("min_keepdims", lambda x: x.min(axis=1, keepdims=True), _distinct(3, 4),
          tags=["reduce"]),
    _case("prod_axis", lambda x: x.prod(axis=1), _away(3, 3), tags=["reduce"]),
    _case("prod_all", lambda x: x.prod(), _away(2, 3), tags=["reduce"]),
    _case("prod_keepdims", lambda x: x.prod(axis=0, keepdims=True), _away(2, 3),
          tags=["reduce"]),
    _case("var_axis", lambda x: x.var(axis=0), _n(4, 3), tags=["reduce"]),
    _case("std_all", lambda x: x.std(), _n(3, 4), tags=["reduce"]),
    # ---- softmax family
    _case("softmax", lambda x: x.softmax(-1), _n(2, 4), tags=["softmax"]),
    _case("softmax_axis0", lambda x: cr.softmax(x, axis=0), _n(3, 2), tags=["softmax"]),
    _case("log_softmax", lambda x: x.log_softmax(1), _n(2, 4), tags=["softmax"]),
    _case("logsumexp_axis", lambda x: cr.logsumexp(x, axis=1), _n(3, 4), tags=["softmax"]),
    _case("logsumexp_all", lambda x: x.logsumexp(), _n(2, 3), tags=["softmax"]),
    # ---- shape ops
    _case("reshape", lambda x: x.reshape(3, 4), _n(2, 6), linear=True, tags=["shape"]),
    _case("transpose", lambda x: x.transpose(0, 2), _n(2, 3, 4), linear=True, tags=["shape"]),
    _case("permute", lambda x: x.permute(2, 0, 1), _n(2, 3, 4), linear=True, tags=["shape"]),
    _case("T", lambda x: x.T, _n(2, 3), linear=True, tags=["shape"]),
    _case("expand", lambda x: x.expand(2, 3, 4), _n(3, 1), linear=True, tags=["shape"]),
    _case("broadcast_to", lambda x: cr.broadcast_to(x, (2, 3)), _n(3), linear=True,
          tags=["shape"]),
    _case("squeeze_unsqueeze", lambda x: x.squeeze(1).unsqueeze(0), _n(3, 1, 2),
          linear=True, tags=["shape"]),
    _case("flatten", lambda x: x.flatten(1), _n(2, 3, 2), linear=True, tags=["shape"]),
    _case("getitem_slices", lambda x: x[1:, ::-2], _n(3, 5), linear=True, tags=["shape"]),
    _case("getitem_int_none_ellipsis", lambda x: x[1, None, ..., 0], _n(3, 2, 4),
          linear=True, tags=["shape"]),
    _case("getitem_int_array", lambda x: x[IDX], _n(3, 2), linear=True, tags=["shape"]),
    _case("getitem_int_arrays_2d", lambda x: x[IDX, np.array([1, 0, 0, 1])], _n(3, 2),
          linear=True, tags=["shape"]),
    _case("getitem_split_advanced", lambda x: x[np.array([0, 1, 1]), :, np.array([2, 0, 2])],
          _n(2, 3, 4), linear=True, tags=["shape"]),
    _case("getitem_bool", lambda x: x[np.array([True, False, True])], _n(3, 2),
          linear=True, tags=["shape"]),
    _case("concatenate", lambda a, b: cr.concatenate([a, b, a], axis=1), _n(2, 3), _n(2, 1),
          linear=True, tags=["shape"]),
    _case("stack", lambda a, b: cr.stack([a, b], axis=1), _n(2, 3), _n(2, 3), linear=True,
          tags=["shape"]),
    _case("split", lambda x: cr.split(x, [1, 3], axis=1)[1] * 2.0, _n(2, 4), linear=True,
          tags=["shape"]),
    _case("pad", lambda x: cr.pad(x, ((1, 0), (2, 1))), _n(2, 3), linear=True, tags=["shape"]),
    _case("pad_value", lambda x: x.pad(1, value=0.5), _n(2, 2), linear=True, tags=["shape"]),
    # ---- matmul
    _case("matmul_2d", lambda a, b: a @ b, _n(2, 3), _n(3, 4), tags=["matmul"]),
    _case("matmul_vec_mat", lambda a, b: a @ b, _n(3), _n(3, 2), tags=["matmul"]),
    _case("matmul_mat_vec", lambda a, b: a @ b, _n(2, 3), _n(3), tags=["matmul"]),
    _case("matmul_vec_vec", lambda a, b: a @ b, _n(3), _n(3), tags=["matmul"]),
    _case("matmul_batched", lambda a, b: a @ b, _n(2, 2, 3), _n(2, 3, 2), tags=["matmul"]),
    _case("matmul_batched_bcast", lambda a, b: cr.matmul(a, b), _n(2, 1, 2, 3), _n(3, 3, 2),
          tags=["matmul"]),
    _case("matmul_batched_vec", lambda a, b: a @ b, _n(2, 2, 3), _n(3), tags=["matmul"]),
    # ---- sliding windows
    _case("unfold2d", lambda x: cr.unfold2d(x, 2), _n(1, 2, 3, 3), linear=True, tags=["conv"]),
    _case("unfold2d_stride_pad", lambda x: cr.unfold2d(x, (2, 3), stride=2, padding=1),
          _n(2, 1, 3, 4), linear=True, tags=["conv"]),
    _case("fold2d", lambda c: cr.fold2d(c, (3, 3), 2), _n(1, 8, 4), linear=True, tags=["conv"]),
    # ---- compositions
    _case("mlp", lambda w, x: cr.tanh(x @ w).sum(axis=1).softmax(0), _n(3, 2), _n(4, 3),
          tags=["composite"]),
]

CASE_IDS = [c.name for c in CASES]


# ----------------------------------------------------------------------------- checks


def check_first_order(f: Callable[..., Any], xs: Sequence[np.ndarray], seed: int = 0,
                      atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """jacrev and jacfwd (all inputs at once), jvp and vjp, against central differences."""
    nums = tuple(range(len(xs)))
    jacs = [numeric_jacobian(f, xs, i) for i in nums]
    rev = cr.jacrev(f, argnums=nums)(*xs)
    fwd = cr.jacfwd(f, argnums=nums)(*xs)
    for i in nums:
        assert_close(rev[i], jacs[i], atol, rtol, what=f"jacrev wrt input {i}")
        assert_close(fwd[i], jacs[i], atol, rtol, what=f"jacfwd wrt input {i}")
    rng = np.random.default_rng(seed)
    tangents = tuple(rng.standard_normal(np.shape(x)) for x in xs)
    out, t_out = cr.jvp(f, tuple(xs), tangents)
    expected = sum(np.tensordot(j, t, axes=t.ndim) for j, t in zip(jacs, tangents, strict=True))
    assert_close(t_out, np.reshape(expected, out.shape), atol, rtol, what="jvp")
    out, vjp_fn = cr.vjp(f, *xs)
    v = rng.standard_normal(out.shape)
    for i, g in enumerate(vjp_fn(v)):
        assert_close(g, np.tensordot(v, jacs[i], axes=v.ndim), atol, rtol, what=f"vjp {i}")


def check_hessian(f: Callable[..., Any], xs: Sequence[np.ndarray], seed: int = 0,
                  atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """The Hessian of sum(w · sin(f(x, *rest))) in the first input, four ways and by
    differences of the gradient."""
    rest = [cr.tensor(x) for x in xs[1:]]
    with cr.no_grad():
        shape = arr(f(*[cr.tensor(x) for x in xs])).shape
    w = np.random.default_rng(seed).standard_normal(shape)

    def g(x: Any) -> Any:
        return (cr.sin(f(x, *rest)) * w).sum()

    x = xs[0]
    h = cr.hessian(g)(x)
    assert_close(h, numeric_jacobian(cr.grad(g), [x]), atol, rtol, what="hessian")
    for name, composed in [("jacrev(jacrev)", cr.jacrev(cr.jacrev(g))),
                           ("jacfwd(jacfwd)", cr.jacfwd(cr.jacfwd(g))),
                           ("jacrev(jacfwd)", cr.jacrev(cr.jacfwd(g)))]:
        assert_close(composed(x), h, 1e-10, 1e-8, what=name)
