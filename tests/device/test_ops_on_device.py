"""Every op of the table on the "cuda" device (the CuPy test double): the result stays on
the device and matches NumPy, gradcheck passes, and the gradients come back on the device."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ops.op_table import CASES, FIRST, OpCase

import chainrule as cr

from . import fakecupy

ON_DEVICE = settings(max_examples=8, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def _on_device(value: Any) -> Any:
    """Float and boolean arrays go to the device; integer arrays stay on the host, as
    indices (CuPy takes NumPy arrays as indices)."""
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "fb":
        return fakecupy.asarray(value)
    return value


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@ON_DEVICE
@given(data=st.data())
def test_value_and_gradcheck_on_device(gpu: None, case: OpCase, data: st.DataObject) -> None:
    sample = data.draw(case.sample(FIRST), label="sample")
    xs = [cr.tensor(a, dtype=cr.float64, requires_grad=True, device="cuda")
          for a in sample.arrays]
    params = {k: _on_device(v) for k, v in sample.params.items()}
    out = case.fn(*xs, **params)
    assert out.device == "cuda:0"
    np.testing.assert_allclose(out.cpu().numpy(), case.ref(*sample.arrays, **sample.params),
                               rtol=1e-12, atol=1e-12)
    assert cr.gradcheck(lambda *t: case.fn(*t, **params), tuple(xs))
    out.backward(cr.ones_like(out))
    for x in xs:
        assert x.grad is not None and x.grad.device == "cuda:0"
