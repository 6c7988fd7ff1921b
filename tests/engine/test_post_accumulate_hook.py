"""``Tensor.register_post_accumulate_grad_hook``: told when a leaf's ``.grad`` is complete."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def _leaf(*values: float) -> cr.Tensor:
    return cr.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_the_hook_sees_the_accumulated_grad_once_per_backward() -> None:
    x = _leaf(1.0, 2.0)
    seen: list[tuple[cr.Tensor, np.ndarray]] = []
    x.register_post_accumulate_grad_hook(lambda p: seen.append((p, p.grad.data.copy())))
    (x * x + x * 3).sum().backward()  # x used in three places: one call with the total
    assert len(seen) == 1 and seen[0][0] is x
    np.testing.assert_array_equal(seen[0][1], 2 * x.data + 3)
    (x * x).sum().backward()  # accumulates: the hook sees old + new
    assert len(seen) == 2
    np.testing.assert_array_equal(seen[1][1], 2 * x.data + 3 + 2 * x.data)


def test_the_hook_runs_after_register_hook_changed_the_grad() -> None:
    x = _leaf(1.0, 2.0)
    x.register_hook(lambda g: g * 10)
    seen: list[np.ndarray] = []
    x.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.data.copy()))
    (x * 2).sum().backward()
    np.testing.assert_array_equal(seen[0], [20.0, 20.0])


def test_only_leaves_reached_by_the_backward_are_told() -> None:
    a, b = _leaf(1.0), _leaf(2.0)
    told: list[str] = []
    a.register_post_accumulate_grad_hook(lambda p: told.append("a"))
    b.register_post_accumulate_grad_hook(lambda p: told.append("b"))
    (a * 3).sum().backward()
    assert told == ["a"] and b.grad is None


def test_the_hook_may_change_grad_in_place_and_the_change_stays() -> None:
    x = _leaf(1.0, 2.0)

    def halve(p: cr.Tensor) -> None:
        p.grad.data[...] *= 0.5

    x.register_post_accumulate_grad_hook(halve)
    (x * 4).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_remove_takes_the_hook_off() -> None:
    x = _leaf(1.0)
    calls: list[int] = []
    handle = x.register_post_accumulate_grad_hook(lambda p: calls.append(1))
    (x * 2).sum().backward()
    handle.remove()
    (x * 2).sum().backward()
    assert calls == [1]
    handle.remove()  # twice is harmless


def test_the_hook_also_runs_with_create_graph() -> None:
    x = _leaf(3.0)
    seen: list[float] = []
    x.register_post_accumulate_grad_hook(lambda p: seen.append(float(p.grad.item())))
    (x * x * x).sum().backward(create_graph=True)
    assert seen == [27.0]


def test_transforms_do_not_accumulate_so_do_not_call_it() -> None:
    x = _leaf(1.0, 2.0)
    calls: list[int] = []
    x.register_post_accumulate_grad_hook(lambda p: calls.append(1))
    g = cr.grad(lambda t: (t * t).sum())(x)
    np.testing.assert_array_equal(np.asarray(g), [2.0, 4.0])
    assert calls == [] and x.grad is None


def test_a_raising_hook_propagates_and_leaves_nothing_waiting() -> None:
    x = _leaf(1.0)

    def boom(p: cr.Tensor) -> None:
        raise RuntimeError("hook failed")

    handle = x.register_post_accumulate_grad_hook(boom)
    with pytest.raises(RuntimeError, match="hook failed"):
        (x * 2).sum().backward()
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0


def test_only_leaves_that_require_grad_take_the_hook() -> None:
    with pytest.raises(cr.GraphError, match="does not require grad"):
        cr.ones(2).register_post_accumulate_grad_hook(lambda p: None)
    x = _leaf(1.0)
    with pytest.raises(cr.GraphError, match="only a leaf .* use register_hook"):
        (x * 2).register_post_accumulate_grad_hook(lambda p: None)
