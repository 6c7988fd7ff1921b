"""jvp, vjp, jacfwd, jacrev and hessian against central differences and
against each other, on a table that covers every op family."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

from .helpers import CASE_IDS, CASES, Case, arr, assert_close, numeric_jacobian


def _as_tuple(r: object) -> tuple:
    return r if isinstance(r, tuple) else (r,)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_jacrev_and_jacfwd_match_central_differences(case: Case) -> None:
    xs = case.inputs()
    nums = tuple(range(len(xs)))
    rev = _as_tuple(cr.jacrev(case.fn, argnums=nums)(*xs))
    fwd = _as_tuple(cr.jacfwd(case.fn, argnums=nums)(*xs))
    assert len(rev) == len(fwd) == len(xs)
    for i in nums:
        expected = numeric_jacobian(case.fn, xs, i)
        assert_close(rev[i], expected, what=f"jacrev wrt input {i}")
        assert_close(fwd[i], expected, what=f"jacfwd wrt input {i}")
        assert_close(rev[i], fwd[i], atol=1e-12, rtol=1e-12, what=f"jacrev vs jacfwd, input {i}")


_SINGLE = [
    pytest.param(case, i, id=f"{case.name}-arg{i}")
    for case in CASES for i in range(len(case.inputs()))
]


@pytest.mark.parametrize(("case", "i"), _SINGLE)
def test_int_argnums_gives_that_inputs_jacobian(case: Case, i: int) -> None:
    xs = case.inputs()
    expected = numeric_jacobian(case.fn, xs, i)
    rev = cr.jacrev(case.fn, argnums=i)(*xs)
    assert isinstance(rev, cr.Tensor)
    assert_close(rev, expected, what="jacrev")
    fwd = cr.jacfwd(case.fn, argnums=i)(*xs)
    assert isinstance(fwd, cr.Tensor)
    assert_close(fwd, expected, what="jacfwd")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_jvp_and_vjp_are_the_jacobian_times_a_vector(case: Case) -> None:
    xs = case.inputs()
    rng = np.random.default_rng(1)
    tangents = tuple(rng.standard_normal(x.shape) for x in xs)
    jacs = [numeric_jacobian(case.fn, xs, i) for i in range(len(xs))]
    out, t_out = cr.jvp(case.fn, xs, tangents)
    with cr.no_grad():
        value = case.fn(*[cr.tensor(x) for x in xs])
    assert_close(out, value, atol=1e-12, rtol=0, what="jvp's primal output")
    expected = sum(
        np.tensordot(j, t, axes=t.ndim) for j, t in zip(jacs, tangents, strict=True)
    )
    assert_close(t_out, np.reshape(expected, out.shape), what="jvp's tangent")

    out2, vjp_fn = cr.vjp(case.fn, *xs)
    assert_close(out2, value, atol=1e-12, rtol=0, what="vjp's primal output")
    v = rng.standard_normal(out2.shape)
    grads = vjp_fn(v)
    assert len(grads) == len(xs)
    for i, (g, j) in enumerate(zip(grads, jacs, strict=True)):
        assert_close(g, np.tensordot(v, j, axes=v.ndim), what=f"vjp wrt input {i}")


def _scalarize(case: Case, xs: tuple[np.ndarray, ...]):  # type: ignore[no-untyped-def]
    """A scalar function of the first input that goes through ``case.fn`` non-linearly
    (so even a linear op's second-order rules are exercised)."""
    rest = [cr.tensor(x) for x in xs[1:]]
    with cr.no_grad():
        shape = arr(case.fn(*[cr.tensor(x) for x in xs])).shape
    w = np.random.default_rng(2).standard_normal(shape)

    def g(x: cr.Tensor) -> cr.Tensor:
        return (cr.sin(case.fn(x, *rest)) * w).sum()

    return g


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_hessian_matches_differences_and_every_composition(case: Case) -> None:
    xs = case.inputs()
    g = _scalarize(case, xs)
    x = xs[0]
    expected = numeric_jacobian(cr.grad(g), [x])  # differences of the (checked) gradient
    h = cr.hessian(g)(x)
    assert h.shape == x.shape + x.shape
    assert_close(h, expected, what="hessian")
    assert_close(h, np.reshape(arr(h), (x.size, x.size)).T.reshape(h.shape), atol=1e-10,
                 what="hessian symmetry")
    for name, composed in [
        ("jacfwd(jacrev)", cr.jacfwd(cr.jacrev(g))),
        ("jacrev(jacfwd)", cr.jacrev(cr.jacfwd(g))),
        ("jacrev(jacrev)", cr.jacrev(cr.jacrev(g))),
        ("jacfwd(jacfwd)", cr.jacfwd(cr.jacfwd(g))),
        ("jacfwd(grad)", cr.jacfwd(cr.grad(g))),
        ("jacrev(grad)", cr.jacrev(cr.grad(g))),
    ]:
        assert_close(composed(x), h, atol=1e-10, rtol=1e-8, what=name)
