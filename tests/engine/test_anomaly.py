"""``cr.detect_anomaly()`` finds the op, the inputs and the line of user code behind the
first NaN or infinity, forward or backward; outside it, ops give NumPy's values quietly."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr


def test_forward_names_the_op_the_input_and_the_line() -> None:
    x = cr.tensor([1.0, 0.0], requires_grad=True)
    x.label = "x"
    with cr.detect_anomaly(), pytest.raises(cr.AnomalyError) as info:
        x.log()  # the line the error must name
    text = str(info.value)
    assert "log made an infinity (1 of 2" in text and "x, a tensor of shape (2,)" in text
    assert "test_anomaly.py" in text and "x.log()  # the line the error must name" in text
    assert isinstance(info.value, FloatingPointError)


def test_nan_from_inputs_without_nan() -> None:
    a = cr.tensor([0.0, 1.0])
    with cr.detect_anomaly(), pytest.raises(cr.AnomalyError, match="div made NaN"):
        _ = a / a


def test_backward_names_the_op_whose_rule_made_it() -> None:
    z = cr.tensor([4.0, 0.0], requires_grad=True)
    with cr.detect_anomaly():
        s = z.sqrt()  # sqrt(0) is fine forward; its derivative 1/(2·0) is not
        with pytest.raises(cr.AnomalyError) as info:
            s.sum().backward()
    text = str(info.value)
    assert "backward rule of sqrt gave an infinity for its input 0" in text
    assert "s = z.sqrt()" in text and "∂L/∂x = g / (2y)" in text
    assert z.grad is None  # refused before any .grad changed


def test_infinities_the_inputs_already_had_are_not_anomalies() -> None:
    scores = cr.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    mask = np.array([[0.0, 0.0, -np.inf]])  # an attention mask
    with cr.detect_anomaly():
        p = (scores + mask).softmax(-1)
        p.sum().backward()
    np.testing.assert_allclose(p.data[0, 2], 0.0)


def test_as_a_decorator_and_only_inside() -> None:
    @cr.detect_anomaly
    def bad(t: cr.Tensor) -> cr.Tensor:
        return t.log()

    with pytest.raises(cr.AnomalyError):
        bad(cr.tensor([0.0]))
    assert cr.tensor([0.0]).log().item() == -np.inf  # outside: NumPy's value, no error


SCRIPT = """
import numpy as np
import chainrule as cr
values = [cr.tensor([-1.0, 0.0]).log(), cr.tensor([1.0, 0.0]) / 0,
          cr.tensor([1000.0]).exp(), cr.tensor([np.inf]).sin()]
x = cr.tensor([0.0], requires_grad=True)
x.sqrt().sum().backward()
print(values[0].data[0], values[1].data[0], x.grad.item())
np.log(np.array([-1.0]))  # the user's own NumPy: its warning is theirs
"""


def test_ops_give_numpys_values_without_numpys_warnings() -> None:
    """As a script runs: a fresh interpreter importing chainrule at the top. (An import
    inside a warnings.catch_warnings() block, as pytest's collection does, loses the
    filter when the block ends; hence a subprocess here.)"""
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True)
    assert run.stdout.split() == ["nan", "inf", "inf"]
    warned = [line for line in run.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warned) == 1 and "<string>" in warned[0], run.stderr
