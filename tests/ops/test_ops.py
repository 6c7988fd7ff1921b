"""Every op in the table: its value, its first and second derivatives, its
forward-mode tangent and its dtypes, over hypothesis-drawn shapes and values.

Oracles: NumPy for values, central differences for derivatives (both the
engine's ``cr.gradcheck`` and an independent one in ``numerical.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

from . import numerical
from .op_table import CASES, FIRST, SECOND, OpCase, Sample

ALL = pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
SECOND_ORDER = pytest.mark.parametrize(
    "case", [c for c in CASES if c.second_order], ids=lambda c: c.name
)


def _leaves(sample: Sample, dtype: Any = np.float64) -> list[cr.Tensor]:
    return [cr.tensor(a, dtype=dtype, requires_grad=True) for a in sample.arrays]


def _closure(case: OpCase, sample: Sample) -> Any:
    return lambda *xs: case.fn(*xs, **sample.params)


@ALL
@given(data=st.data())
def test_value_matches_numpy(case: OpCase, data: st.DataObject) -> None:
    sample = data.draw(case.sample(FIRST), label="sample")
    out = case.fn(*_leaves(sample), **sample.params)
    expected = case.ref(*sample.arrays, **sample.params)
    assert isinstance(out, cr.Tensor)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert out.requires_grad


@ALL
@given(data=st.data())
def test_gradcheck(case: OpCase, data: st.DataObject) -> None:
    sample = data.draw(case.sample(FIRST), label="sample")
    assert cr.gradcheck(_closure(case, sample), tuple(_leaves(sample)))


@ALL
@given(data=st.data())
def test_backward_matches_central_differences(case: OpCase, data: st.DataObject) -> None:
    """One ordinary ``backward(gradient=v)`` per example, against d<v, f>/dx computed here."""
    sample = data.draw(case.sample(FIRST), label="sample")
    xs = _leaves(sample)
    out = case.fn(*xs, **sample.params)
    v = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(gradient=v)
    expected = numerical.vjp(numerical.as_array_fn(case.fn, **sample.params), sample.arrays, v)
    for i, (x, e) in enumerate(zip(xs, expected, strict=True)):
        assert x.grad is not None, f"input {i} got no gradient"
        assert x.grad.shape == x.shape and x.grad.dtype == np.float64
        np.testing.assert_allclose(x.grad.data, e, rtol=1e-5, atol=1e-6,
                                   err_msg=f"input {i}")


@SECOND_ORDER
@settings(max_examples=5)
@given(data=st.data())
def test_gradgradcheck(case: OpCase, data: st.DataObject) -> None:
    sample = data.draw(case.sample(SECOND), label="sample")
    assert cr.gradgradcheck(_closure(case, sample), tuple(_leaves(sample)))


@ALL
@given(data=st.data())
def test_jvp_matches_central_differences(case: OpCase, data: st.DataObject) -> None:
    """Forward mode (``cr.jvp``) against the directional derivative computed here."""
    sample = data.draw(case.sample(FIRST), label="sample")
    rng = np.random.default_rng(2)
    tangents = [rng.standard_normal(a.shape) for a in sample.arrays]
    out, t_out = cr.jvp(_closure(case, sample), [cr.tensor(a) for a in sample.arrays],
                        [cr.tensor(t) for t in tangents])
    expected = numerical.jvp(numerical.as_array_fn(case.fn, **sample.params), sample.arrays,
                             tangents)
    np.testing.assert_allclose(out.data, case.ref(*sample.arrays, **sample.params),
                               rtol=1e-12, atol=1e-12)
    got = t_out.data
    assert got.shape == out.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@ALL
@given(data=st.data())
def test_float32_stays_float32(case: OpCase, data: st.DataObject) -> None:
    """float32 in, float32 out (unless NumPy promotes through a float64 constant),
    and every gradient in its input's dtype."""
    sample = data.draw(case.sample(FIRST), label="sample")
    xs = _leaves(sample, np.float32)
    out = case.fn(*xs, **sample.params)
    constants = [v for v in sample.params.values()
                 if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    assert out.dtype == np.result_type(np.float32, *constants)
    np.testing.assert_allclose(out.data, case.ref(*sample.arrays, **sample.params),
                               rtol=1e-4, atol=1e-4)
    out.backward(gradient=np.ones(out.shape, dtype=out.dtype))
    for x in xs:
        assert x.grad is not None and x.grad.dtype == np.float32


def test_table_covers_the_public_ops() -> None:
    """Each public op of the API appears in the table (directly or as a method)."""
    names = " ".join(c.name for c in CASES)
    for op in ["add", "sub", "mul", "div", "pow", "neg", "radd", "rsub", "rmul", "rdiv",
               "rpow", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sin", "cos",
               "erf", "clip", "maximum", "minimum", "where", "sum", "mean", "max", "min",
               "var", "std", "logsumexp", "prod", "softmax", "log_softmax", "reshape",
               "view", "transpose", "permute", ".T", "expand", "broadcast_to", "squeeze",
               "unsqueeze", "flatten", "getitem-basic", "getitem-int-array",
               "getitem-mask", "getitem-mixed", "concatenate", "stack", "split", "pad",
               "matmul", "unfold2d", "fold2d"]:
        assert op in names, op
