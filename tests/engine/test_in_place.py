"""In-place changes with PyTorch's semantics: parameters update under no_grad(); a leaf
that requires grad refuses while recording; a change to something an op saved makes
that op's backward refuse; a recorded change on a tensor with history differentiates."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def _w(*values: float) -> cr.Tensor:
    return cr.tensor(np.array(values), requires_grad=True)


@pytest.mark.parametrize(
    "update, expected",
    [
        (lambda p, g: p.__isub__(0.1 * g), [0.8, 1.6]),
        (lambda p, g: p.__iadd__(g), [3.0, 6.0]),
        (lambda p, g: p.__imul__(g), [2.0, 8.0]),
        (lambda p, g: p.__itruediv__(g), [0.5, 0.5]),
        (lambda p, g: p.sub_(g, alpha=0.5), [0.0, 0.0]),
        (lambda p, g: p.add_(g), [3.0, 6.0]),
        (lambda p, g: p.mul_(2), [2.0, 4.0]),
        (lambda p, g: p.div_(2), [0.5, 1.0]),
        (lambda p, g: p.clamp_(1.5, None), [1.5, 2.0]),
        (lambda p, g: p.zero_(), [0.0, 0.0]),
        (lambda p, g: p.fill_(7.0), [7.0, 7.0]),
        (lambda p, g: p.copy_(g), [2.0, 4.0]),
    ],
)
def test_a_parameter_updates_in_place_under_no_grad(update, expected) -> None:  # type: ignore[no-untyped-def]
    p = _w(1.0, 2.0)
    (p * p).sum().backward()
    array = p.data
    with cr.no_grad():
        out = update(p, p.grad)
    assert out is p and p.data is array  # the same tensor, the same array
    np.testing.assert_allclose(p.data, expected)
    assert p.requires_grad and p.is_leaf


def test_the_torch_spelling_of_sgd_is_not_a_silent_no_op() -> None:
    p = _w(1.0, 2.0)
    params = [p]
    (p * p).sum().backward()
    with cr.no_grad():
        for q in params:
            q -= 0.1 * q.grad
    np.testing.assert_allclose(params[0].data, [0.8, 1.6])
    assert params[0] is p and p.requires_grad


def test_changing_the_array_with_a_tensor_works() -> None:
    p = _w(1.0, 2.0)
    (p * p).sum().backward()
    p.data -= 0.1 * p.grad  # an ndarray changed in place by a Tensor
    np.testing.assert_allclose(p.data, [0.8, 1.6])


@pytest.mark.parametrize("change", [lambda p: p.__isub__(1.0), lambda p: p.add_(1.0),
                                    lambda p: p.zero_(), lambda p: p.__setitem__(0, 5.0)])
def test_a_leaf_that_requires_grad_refuses_while_recording(change) -> None:  # type: ignore[no-untyped-def]
    p = _w(1.0, 2.0)
    with pytest.raises(cr.GraphError, match="no_grad"):
        change(p)
    np.testing.assert_array_equal(p.data, [1.0, 2.0])  # unchanged, never half-done


def test_a_change_to_a_saved_tensor_makes_its_op_refuse() -> None:
    x = _w(1.0, 2.0)
    h = x.exp()  # exp saves its output, mul saves both inputs
    loss = (h * h).sum()
    with cr.no_grad():
        h += 1
    with pytest.raises(cr.GraphError, match="mul needs its input 0.*changed in place"):
        loss.backward()
    assert x.grad is None


def test_a_change_to_an_input_the_op_did_not_save_is_fine() -> None:
    x = _w(1.0, 2.0)
    c = cr.tensor(np.array([3.0, 4.0]))
    loss = (x + c).sum()  # add saves neither input
    with cr.no_grad():
        c *= 10
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_a_change_after_backward_is_fine() -> None:
    x = _w(1.0, 2.0)
    (x * x).sum().backward()
    with cr.no_grad():
        x -= 0.5 * x.grad
    (x * x).sum().backward()  # a new graph, made after the change
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])


def test_a_recorded_change_on_a_tensor_with_history_differentiates() -> None:
    x = _w(1.0, 2.0)
    h = x.exp()
    h *= 3  # recorded: h's earlier value (exp) moves to a node of its own
    h += x
    h.sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * np.exp([1.0, 2.0]) + 1)
    assert h.grad_fn.name == "add" and not h.is_leaf


def test_a_plain_tensor_changed_by_one_that_requires_grad_gets_history() -> None:
    w = _w(1.0, 2.0)
    acc = cr.zeros(2, dtype=cr.float64)
    acc += w * 2
    acc += w
    acc.sum().backward()
    np.testing.assert_allclose(w.grad.data, [3.0, 3.0])


def test_an_op_that_used_the_earlier_version_refuses() -> None:
    x = _w(1.0, 2.0)
    h = x * 2
    used = h + 1  # used h before the change below
    h += 5
    with pytest.raises(cr.GraphError, match="changed in place after add used it"):
        (used.sum() + h.sum()).backward()


def test_in_place_keeps_shape_and_dtype_or_says_why() -> None:
    i = cr.tensor([1, 2])
    with pytest.raises(TypeError, match=r"\+=.*float64.*int64"):
        i += 0.5
    a = cr.zeros(2)
    with pytest.raises(cr.ShapeError, match=r"\+=: a tensor of shape \(2,\)"):
        a += cr.ones(3, 2)
    b = cr.zeros(2, 3)
    b += cr.ones(3)  # broadcasting into the tensor's shape is fine
    np.testing.assert_array_equal(b.data, np.ones((2, 3)))


def test_setitem_outside_recording() -> None:
    t = cr.zeros(3)
    t[1] = 5.0
    t[cr.tensor([0, 2])] = cr.tensor([1.0, 2.0])
    np.testing.assert_array_equal(t.data, [1.0, 5.0, 2.0])
    w = _w(1.0, 2.0)
    loss = (w * w).sum()
    with cr.no_grad():
        w[0] = 0.0
    with pytest.raises(cr.GraphError, match="changed in place"):
        loss.backward()  # mul saved w
