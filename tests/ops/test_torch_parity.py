"""Values and gradients against PyTorch, in float64, for a sample of the op table.

The inputs come from the same strategies as the other op tests; each entry
here says how PyTorch computes the same thing. Skipped without torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import chainrule as cr

from .op_table import BY_NAME, FIRST

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _dims(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return axis if isinstance(axis, tuple) else (axis,)


def _reduction(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A torch reduction called with our (axis, keepdims); 0-d and empty axes are skipped."""

    def call(x: Any, axis: Any, keepdims: bool) -> Any:
        dims = _dims(axis, x.ndim)
        assume(len(dims) > 0)
        return fn(x, dim=dims, keepdim=keepdims)

    return call


def _prod(x: Any, axis: Any, keepdims: bool) -> Any:
    assume(x.ndim > 0 and axis != ())
    if axis is None:
        out = x.prod()
        return out.reshape((1,) * x.ndim) if keepdims else out
    assume(isinstance(axis, int))  # torch.prod takes one dim
    return x.prod(dim=axis, keepdim=keepdims)


def _index(index: Any) -> Any:
    items = index if isinstance(index, tuple) else (index,)
    return tuple(torch.from_numpy(np.asarray(i)) if isinstance(i, (np.ndarray, list)) else i
                 for i in items)


def _no_negative_steps(index: Any) -> Any:
    items = index if isinstance(index, tuple) else (index,)
    assume(not any(isinstance(i, slice) and (i.step or 1) < 0 for i in items))
    return _index(index)


def _pad(x: Any, widths: Any, value: float) -> Any:
    flat = [w for pair in reversed(widths) for w in pair]  # last axis first, as F.pad wants
    return F.pad(x, flat, value=value)


def _unfold(x: Any, kernel: Any, stride: Any, padding: Any) -> Any:
    if x.ndim == 3:
        return F.unfold(x[None], kernel, padding=padding, stride=stride)[0]
    return F.unfold(x, kernel, padding=padding, stride=stride)


TORCH: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "where": lambda a, b, cond: torch.where(torch.from_numpy(np.asarray(cond)), a, b),
    "rdiv": lambda a: 2.5 / a,
    "rpow": lambda a: 1.7**a,
    "pow-negative": lambda a: a**-2.5,
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "abs": torch.abs,
    "sin": torch.sin,
    "cos": torch.cos,
    "erf": torch.erf,
    "clip": lambda x, lo, hi: torch.clamp(x, lo, hi),
    "sum": _reduction(torch.sum),
    "mean": _reduction(torch.mean),
    "max": _reduction(torch.amax),
    "min": _reduction(torch.amin),
    "var": _reduction(lambda x, dim, keepdim: torch.var(x, dim, correction=0, keepdim=keepdim)),
    "var-ddof1": _reduction(lambda x, dim, keepdim: torch.var(x, dim, keepdim=keepdim)),
    "std": _reduction(lambda x, dim, keepdim: torch.std(x, dim, correction=0, keepdim=keepdim)),
    "logsumexp": _reduction(torch.logsumexp),
    "prod": _prod,
    "softmax": lambda x, axis: torch.softmax(x, axis),
    "log_softmax": lambda x, axis: torch.log_softmax(x, axis),
    "reshape": lambda x, shape: x.reshape(shape),
    "transpose": lambda x, dim0, dim1: x.transpose(dim0, dim1),
    "permute": lambda x, perm: x.permute(perm),
    "expand": lambda x, shape: x.expand(tuple(shape)),
    "squeeze": lambda x, axis: x.squeeze() if axis is None else x.squeeze(axis),
    "unsqueeze": lambda x, axis: x.unsqueeze(axis),
    "flatten": lambda x, start, end: x.flatten(start, end),
    "getitem-basic": lambda x, index: x[_no_negative_steps(index)],
    "getitem-int-array": lambda x, index: x[_index(index)],
    "getitem-mask": lambda x, index: x[_index(index)],
    "getitem-mixed": lambda x, index: x[_no_negative_steps(index)],
    "concatenate": lambda *xs, axis: torch.cat(xs, axis),
    "stack": lambda *xs, axis: torch.stack(xs, axis),
    "pad": _pad,
    "matmul": torch.matmul,
    "unfold2d": _unfold,
    "fold2d": lambda c, hw, kernel, stride, padding: F.fold(
        c, hw, kernel, padding=padding, stride=stride),
}


@pytest.mark.parametrize("name", sorted(TORCH))
@given(data=st.data())
def test_matches_torch(name: str, data: st.DataObject) -> None:
    case = BY_NAME[name]
    sample = data.draw(case.sample(FIRST), label="sample")
    theirs_in = [torch.tensor(a, dtype=torch.float64, requires_grad=True)
                 for a in sample.arrays]
    theirs = TORCH[name](*theirs_in, **sample.params)
    ours_in = [cr.tensor(a, requires_grad=True) for a in sample.arrays]
    ours = case.fn(*ours_in, **sample.params)

    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)

    v = np.random.default_rng(3).standard_normal(ours.shape)
    ours.backward(gradient=v)
    theirs.backward(torch.from_numpy(v))
    for i, (a, b) in enumerate(zip(ours_in, theirs_in, strict=True)):
        expected = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad.data
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=f"input {i}")


def test_second_derivatives_match_torch() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal((4, 2))

    def ours_f(t: cr.Tensor) -> cr.Tensor:
        return ((t @ cr.tensor(w)).tanh().logsumexp(-1) * t.sigmoid().sum(-1)).sum()

    def theirs_f(t: Any) -> Any:
        return ((t @ torch.from_numpy(w)).tanh().logsumexp(-1) * t.sigmoid().sum(-1)).sum()

    ours = cr.hessian(ours_f)(cr.tensor(x))
    theirs = torch.autograd.functional.hessian(theirs_f, torch.from_numpy(x))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-9, atol=1e-12)


def test_kink_conventions_match_torch() -> None:
    x = np.array([-1.0, 0.0, 0.0, 2.0])
    y = np.array([0.5, 0.0, 1.0, 2.0])
    for name, ours_f, theirs_f in [
        ("relu", lambda a, b: a.relu(), lambda a, b: a.relu()),
        ("abs", lambda a, b: a.abs(), lambda a, b: a.abs()),
        ("maximum", cr.maximum, torch.maximum),
        ("minimum", cr.minimum, torch.minimum),
        ("clip", lambda a, b: cr.clip(a, 0.0, 2.0), lambda a, b: torch.clamp(a, 0.0, 2.0)),
        ("amax", lambda a, b: (a * 0 + b).max() + a.max(), lambda a, b: (a * 0 + b).amax()
         + a.amax()),
    ]:
        oa, ob = cr.tensor(x, requires_grad=True), cr.tensor(y, requires_grad=True)
        ta = torch.tensor(x, requires_grad=True)
        tb = torch.tensor(y, requires_grad=True)
        ours_f(oa, ob).sum().backward()
        theirs_f(ta, tb).sum().backward()
        for o, t in ((oa, ta), (ob, tb)):
            expected = np.zeros(2 * (4,))[0] if t.grad is None else t.grad.numpy()
            got = np.zeros(4) if o.grad is None else o.grad.data
            np.testing.assert_allclose(got, expected, err_msg=name)
