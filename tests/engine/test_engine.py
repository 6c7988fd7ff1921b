"""The reverse sweep and the Tensor object: accumulation, graph lifetime, modes,
hooks, dtypes, and the small conveniences (repr, item, len, NumPy interop)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def _x(*values: float, dtype: object = np.float64) -> cr.Tensor:
    return cr.tensor(list(values), dtype=dtype, requires_grad=True)


# ---------------------------------------------------------------- accumulation
def test_fresh_leaf_has_no_grad() -> None:
    x = _x(1.0, 2.0)
    assert x.grad is None
    assert x.is_leaf and x.requires_grad
    assert cr.zeros(3, requires_grad=True).grad is None


def test_leaf_grad_accumulates_across_backward_calls() -> None:
    x = _x(1.0, -2.0, 3.0)
    for k in (1, 2, 3):
        (x * x).sum().backward()  # a new graph each time; d/dx = 2x
        np.testing.assert_array_equal(x.grad.data, k * 2 * np.array([1.0, -2.0, 3.0]))


def test_input_used_twice_gets_both_contributions() -> None:
    a = _x(3.0)
    b = a + a
    b.backward()
    assert a.grad.item() == 2.0
    c = _x(3.0)
    (c * c * c).backward()  # three uses: 3c^2
    assert c.grad.item() == pytest.approx(27.0)


def test_non_leaf_used_twice() -> None:
    x = _x(0.5, -1.0)
    h = x * 3.0
    y = (h * h + h).sum()  # dy/dx = (2h + 1) * 3
    y.backward()
    np.testing.assert_allclose(x.grad.data, (2 * 3 * x.data + 1) * 3)
    assert h.grad is None  # a non-leaf keeps no grad unless asked


def test_diamond_graph() -> None:
    x = _x(0.3)
    a, b = x.exp(), x.sin()
    (a * b).backward()  # d(e^x sin x) = e^x (sin x + cos x)
    assert x.grad.item() == pytest.approx(np.exp(0.3) * (np.sin(0.3) + np.cos(0.3)))


def test_backward_with_gradient() -> None:
    x = _x(1.0, 2.0, 3.0)
    v = np.array([0.5, -1.0, 2.0])
    (x * x).backward(gradient=v)
    np.testing.assert_allclose(x.grad.data, 2 * x.data * v)
    z = _x(1.0, 2.0)
    (z.exp()).backward(gradient=cr.tensor([1.0, 3.0]))
    np.testing.assert_allclose(z.grad.data, np.exp([1.0, 2.0]) * [1.0, 3.0])


def test_grad_does_not_alias_the_gradient_argument() -> None:
    x = _x(1.0, 2.0)
    v = np.array([1.0, 1.0])
    (x + 0.0).backward(gradient=v)
    (x + 0.0).backward(gradient=v)  # accumulates into x.grad, must not write into v
    np.testing.assert_array_equal(v, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    v[0] = 100.0
    assert x.grad.data[0] == 2.0


def test_non_scalar_backward_needs_a_gradient() -> None:
    x = cr.ones(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(cr.GraphError) as info:
        y.backward()
    msg = str(info.value)
    assert "(2, 3)" in msg and "gradient" in msg and "sum()" in msg
    assert x.grad is None


def test_gradient_of_the_wrong_shape() -> None:
    y = cr.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(cr.ShapeError, match=r"\(3, 2\).*\(2, 3\)"):
        y.backward(gradient=np.ones((3, 2)))


def test_backward_on_a_tensor_without_grad() -> None:
    with pytest.raises(cr.GraphError, match="requires_grad"):
        cr.ones(3).sum().backward()


def test_second_backward_through_a_freed_graph_raises() -> None:
    x = _x(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(cr.GraphError, match="retain_graph=True"):
        y.backward()


def test_second_backward_through_a_shared_freed_subgraph_raises() -> None:
    x = _x(1.0, 2.0)
    h = x.exp()
    h.sum().backward()
    with pytest.raises(cr.GraphError, match="freed"):
        (h * 2).sum().backward()


def test_retain_graph_allows_a_second_backward() -> None:
    x = _x(1.0, 2.0)
    y = (x.exp() * x).sum()  # d/dx = e^x (1 + x)
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    expected = np.exp(x.data) * (1 + x.data)
    np.testing.assert_allclose(x.grad.data, 2 * expected)
    y.backward()  # the last one may free the graph
    np.testing.assert_allclose(x.grad.data, 3 * expected)


def test_create_graph_gives_a_differentiable_grad() -> None:
    x = _x(0.5, 2.0)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    np.testing.assert_allclose(g.data, 3 * x.data**2)
    assert g.requires_grad and not g.is_leaf
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)


def test_create_graph_differentiates_through_the_gradient_argument() -> None:
    x, v = _x(1.0, 2.0), _x(3.0, 4.0)
    (x * x).backward(gradient=v, create_graph=True)  # x.grad = 2 x v
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * v.data)
    assert v.grad is not None
    np.testing.assert_allclose(v.grad.data, 2 * x.data)


def test_deep_chain_has_no_recursion_limit() -> None:
    x = _x(1.0)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**20_000)


# ---------------------------------------------------------------- modes
def test_no_grad_context_manager() -> None:
    x = _x(1.0, 2.0)
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = x * 2
        with cr.enable_grad():
            z = x * 3
        w = x * 4
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert not w.requires_grad
    assert z.requires_grad and not z.is_leaf
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_no_grad_and_enable_grad_as_decorators() -> None:
    x = _x(1.0)

    @cr.no_grad()
    def frozen(t: cr.Tensor) -> cr.Tensor:
        return t * 2

    @cr.enable_grad()
    def recorded(t: cr.Tensor) -> cr.Tensor:
        return t * 2

    assert not frozen(x).requires_grad
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert recorded(x).requires_grad
        assert not cr.is_grad_enabled()
    assert frozen.__name__ == "frozen"


def test_grad_mode_is_restored_after_an_exception() -> None:
    with pytest.raises(ZeroDivisionError), cr.no_grad():
        1 / 0  # noqa: B018
    assert cr.is_grad_enabled()

    @cr.no_grad()
    def boom() -> None:
        raise KeyError

    with pytest.raises(KeyError):
        boom()
    assert cr.is_grad_enabled()


def test_set_grad_enabled() -> None:
    x = _x(1.0)
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    with cr.set_grad_enabled(True):
        assert (x * 2).requires_grad


def test_detach() -> None:
    x = _x(1.0, 2.0)
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad and d.grad is None
    np.testing.assert_array_equal(d.data, [2.0, 4.0])
    y = (x * x.detach()).sum()  # the detached factor is a constant: d/dx = x
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0])
    assert d.detach().requires_grad_().requires_grad


def test_requires_grad_on_a_non_leaf_cannot_change() -> None:
    y = _x(1.0) * 2
    with pytest.raises(cr.GraphError, match="leaf"):
        y.requires_grad_(False)


def test_setitem_into_a_tensor_that_requires_grad_raises() -> None:
    x = _x(1.0, 2.0)
    with pytest.raises(cr.GraphError, match="no_grad"):
        x[0] = 5.0
    with cr.no_grad():
        x[0] = 5.0
    assert x.data[0] == 5.0


# ---------------------------------------------------------------- hooks
def test_hook_on_a_leaf_can_replace_its_grad() -> None:
    x = _x(1.0, 2.0)
    seen = []
    remove = x.register_hook(lambda g: seen.append(g.data.copy()) or g * 10)
    (x * x).sum().backward()
    np.testing.assert_array_equal(seen[0], [2.0, 4.0])
    np.testing.assert_array_equal(x.grad.data, [20.0, 40.0])
    remove()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
    assert len(seen) == 1
    remove()  # removing twice is harmless


def test_hook_on_an_intermediate_changes_what_flows_on() -> None:
    x = _x(1.0, 2.0)
    h = x * 3
    h.register_hook(lambda g: g * 0.5)
    (h * h).sum().backward()  # d/dh = 2h, halved, times 3
    np.testing.assert_allclose(x.grad.data, 0.5 * 2 * (3 * x.data) * 3)


def test_hook_returning_none_keeps_the_grad() -> None:
    x = _x(1.0, 2.0)
    calls = []
    x.register_hook(lambda g: calls.append(1))
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    assert calls == [1]


def test_hook_returning_the_wrong_shape() -> None:
    x = _x(1.0, 2.0)
    x.register_hook(lambda g: cr.ones(3))
    with pytest.raises(cr.ShapeError, match="hook"):
        (x * 2).sum().backward()


def test_hook_handle_has_remove() -> None:
    x = _x(1.0)
    handle = x.register_hook(lambda g: g * 2)
    handle.remove()  # type: ignore[attr-defined]
    (x * 1.0).sum().backward()
    assert x.grad.item() == 1.0


def test_hook_needs_requires_grad() -> None:
    with pytest.raises(cr.GraphError):
        cr.ones(2).register_hook(lambda g: g)


def test_retain_grad_keeps_an_intermediate_grad() -> None:
    x = _x(1.0, 2.0)
    h = x.exp()
    h.retain_grad()
    other = x * 2  # not retained
    (h * h + other).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * np.exp(x.data))
    assert other.grad is None
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(2 * x.data) + 2)


# ---------------------------------------------------------------- dtypes
def test_integer_tensor_cannot_require_grad() -> None:
    with pytest.raises(TypeError, match="int64"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError):
        cr.tensor([1, 2]).requires_grad_()
    with pytest.raises(TypeError):
        cr.tensor([True, False], requires_grad=True)


def test_integer_and_boolean_tensors_never_require_grad() -> None:
    x = _x(1.0, 2.0)
    i = cr.arange(2)
    assert i.dtype.kind == "i" and not i.requires_grad
    y = x * i  # a float result that requires grad; the integer stays a constant
    assert y.requires_grad and y.dtype == np.float64
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0])
    assert i.grad is None and not (i + 1).requires_grad


def test_comparisons_are_boolean_and_not_differentiable() -> None:
    x = _x(1.0, -2.0, 3.0)
    for c in (x > 0, x < 0, x >= 1, x <= 1, x == 3.0, x != 3.0, x > cr.zeros(3)):
        assert c.dtype == np.bool_
        assert not c.requires_grad and c.is_leaf
    np.testing.assert_array_equal((x > 0).data, [True, False, True])
    y = cr.where(x > 0, x, x * -2.0)  # masks still steer gradients
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, -2.0, 1.0])


def test_float32_stays_float32_through_a_small_network() -> None:
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((5, 3)), dtype=cr.float32)
    w = cr.tensor(rng.standard_normal((3, 4)), dtype=cr.float32, requires_grad=True)
    b = cr.zeros(4, dtype=cr.float32, requires_grad=True)
    h = (x @ w + b).relu()
    loss = ((h.softmax(-1) - 0.25) ** 2).mean() + h.logsumexp(-1).std() * 0.5
    assert h.dtype == np.float32 and loss.dtype == np.float32
    loss.backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_float32_grads_are_cast_back_through_a_float64_constant() -> None:
    """NumPy promotes float32 * float64-array to float64; the gradient still comes back
    to each input in that input's own dtype."""
    x = cr.tensor([1.0, 2.0], dtype=cr.float32, requires_grad=True)
    c = np.array([0.5, 3.0])  # float64
    y = (x * c).exp()
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, c * np.exp(np.array([1.0, 2.0]) * c), rtol=1e-6)
    z = cr.tensor([1.0, 2.0], dtype=cr.float32, requires_grad=True)
    (z * 2.0 + 1).backward(gradient=np.ones(2))  # a float64 seed for a float32 output
    assert (z * 2.0).dtype == np.float32 and z.grad.dtype == np.float32


def test_mixed_float32_and_float64_tensors() -> None:
    a = cr.tensor([1.0, 2.0], dtype=cr.float32, requires_grad=True)
    b = cr.tensor([3.0, 4.0], dtype=cr.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.data, [3.0, 4.0])
    np.testing.assert_allclose(b.grad.data, [1.0, 2.0])


# ---------------------------------------------------------------- conveniences
def test_repr_looks_like_pytorch() -> None:
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(cr.tensor(3.0)) == "tensor(3.)"
    assert repr(cr.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(cr.tensor([1.0, 2.0], requires_grad=True)) == (
        "tensor([1., 2.], requires_grad=True)")
    assert repr(cr.tensor([[1.0, 2.0], [3.0, 4.0]])) == (
        "tensor([[1., 2.],\n        [3., 4.]])"
    )
    # float32 is the default, so only another dtype is shown, as PyTorch does
    assert repr(cr.tensor([1.0], dtype=cr.float32)) == "tensor([1.])"
    assert repr(_x(1.0, 2.0)) == "tensor([1., 2.], dtype=float64, requires_grad=True)"
    y = cr.tensor([1.0, 2.0], requires_grad=True).sum()
    assert repr(y) == "tensor(3., grad_fn=<sum>)"


def _torch_repr(data: object) -> str:
    torch = pytest.importorskip("torch")
    return repr(torch.tensor(data))  # float32 from Python floats, as cr.tensor


@pytest.mark.parametrize(
    "data", [[1.0, 2.0], [[1.0, -2.0], [3.0, 40.0]], [1, 2, 3], [True, False], 3.0]
)
def test_repr_matches_torch(data: object) -> None:
    assert repr(cr.tensor(data)) == _torch_repr(data)


@pytest.mark.parametrize("data", [[[1.0, 2.5], [3.0, -4.0]], [0.1, 2.0], 3.5])
def test_repr_matches_torch_for_fractions(data: object) -> None:
    assert repr(cr.tensor(data)) == _torch_repr(data)


def test_numpy_interop_and_python_conversions() -> None:
    x = _x(1.0, 2.0, 3.0)
    (x * x).sum().backward()
    g = np.asarray(x.grad)
    assert isinstance(g, np.ndarray)
    np.testing.assert_array_equal(g, [2.0, 4.0, 6.0])
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    assert x.numpy() is x.data
    assert x.tolist() == [1.0, 2.0, 3.0]
    assert len(x) == 3 and len(cr.zeros(4, 2)) == 4
    assert x.sum().item() == 6.0 and isinstance(x.sum().item(), float)
    assert cr.tensor([[7]]).item() == 7
    assert float(cr.tensor(2.5)) == 2.5
    with pytest.raises(ValueError, match="one element"):
        x.item()
    with pytest.raises(TypeError):
        len(cr.tensor(1.0))
    assert [t.item() for t in x] == [1.0, 2.0, 3.0]
    assert x.shape == x.size() == (3,) and x.size(0) == 3 and x.numel() == 3
    assert x.ndim == 1 and x.dtype == np.float64


@pytest.mark.parametrize(
    "index",
    [[], np.int64(1), (np.int64(-1), np.int64(0)), True, (Ellipsis, None), (slice(3, None),),
     ([1, 1, 0], [0, 0, 2])],
    ids=["empty-list", "np-int", "np-ints", "bool", "ellipsis-none", "empty-slice",
         "repeated-pairs"],
)
def test_indexing_like_numpy_at_the_edges(index: object) -> None:
    a = np.arange(6.0).reshape(2, 3)
    x = cr.tensor(a, requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.data, a[index])  # type: ignore[index]
    y.sum().backward()
    counts = np.zeros_like(a)
    np.add.at(counts, index, 1.0)  # how often each element was picked
    np.testing.assert_array_equal(x.grad.data, counts)


def test_grads_own_their_memory() -> None:
    """A gradient that is a broadcast view, or shared by two inputs, is copied before
    it is stored, so accumulating into one grad never touches another."""
    x = _x(1.0, 2.0)
    x.sum().backward()
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    a, b = _x(1.0, 2.0), _x(3.0, 4.0)
    (a + b).backward(gradient=np.ones(2))
    a.grad.data += 10.0
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    (a + b).backward(gradient=np.ones(2))
    np.testing.assert_array_equal(a.grad.data, [12.0, 12.0])
    np.testing.assert_array_equal(b.grad.data, [2.0, 2.0])


def test_hook_on_a_tensor_used_twice_runs_once_with_the_total() -> None:
    x = _x(1.0, 2.0)
    h = x * 1.0
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    (h * 2 + h * 3).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [5.0, 5.0])


def test_numpy_arrays_on_the_left_defer_to_the_tensor() -> None:
    x = _x(1.0, 2.0)
    c = np.array([3.0, 4.0])
    for y in (c + x, c - x, c * x, c / x, c**x):
        assert isinstance(y, cr.Tensor) and y.requires_grad
    (c * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, c)


def test_numpy_integers_as_axes() -> None:
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    ax = np.int64(1)
    np.testing.assert_array_equal(x.sum(ax).data, [3.0, 12.0])
    np.testing.assert_array_equal(x.mean(axis=(np.int32(0), ax)).data, 2.5)
    np.testing.assert_allclose(x.softmax(ax).data.sum(1), [1.0, 1.0])
    assert x.max(ax).shape == (2,) and x.unsqueeze(ax).shape == (2, 1, 3)
    with pytest.raises(TypeError, match="axis"):
        x.sum(axis=True)
    with pytest.raises(TypeError, match="axis"):
        x.sum(axis=1.0)


def test_clip_with_tensor_bounds() -> None:
    x = _x(-2.0, 0.5, 3.0)
    y = cr.clip(x, cr.tensor(-1.0), cr.tensor([1.0, 1.0, 2.0]))
    np.testing.assert_array_equal(y.data, [-1.0, 0.5, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0])
    with pytest.raises(TypeError, match="clip.*maximum"):  # a bound to differentiate
        cr.clip(x, _x(0.0), None)


def test_methods_and_functions_agree() -> None:
    x = cr.tensor([0.3, 1.2, 2.0])
    for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sin", "cos", "erf"):
        np.testing.assert_array_equal(getattr(x, name)().data, getattr(cr, name)(x).data)
    np.testing.assert_array_equal(cr.exp(np.array([0.0, 1.0])).data, np.exp([0.0, 1.0]))
    assert cr.exp(1.0).item() == pytest.approx(np.e)


# ---------------------------------------------------------------- forward mode
@pytest.mark.parametrize(
    "f",
    [lambda a: a + np.ones(3), lambda a: np.ones((2, 3)) - a, lambda a: a + cr.ones(3)],
    ids=["add", "rsub", "add-tensor-constant"],
)
def test_jvp_tangent_has_output_shape(f: object) -> None:
    out, t = cr.jvp(f, (cr.tensor(1.0),), (cr.tensor(1.0),))
    assert t.shape == out.shape


def test_jacfwd_of_a_broadcasting_add() -> None:
    b = cr.ones(3)
    jac = cr.jacfwd(lambda a: a + b)(cr.tensor([1.0]))
    np.testing.assert_array_equal(jac.data, np.ones((3, 1)))


# ---------------------------------------------------------------- the sweep's own paths
def test_backward_from_a_leaf() -> None:
    x = _x(1.0, 2.0)
    x.backward(np.array([3.0, 4.0]))
    x.backward(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.data, [4.0, 5.0])


def test_the_graph_survives_backward_until_the_output_is_dropped() -> None:
    import weakref

    x = _x(0.5, 1.5)
    h = (x * 2.0).exp()
    ref = weakref.ref(h)
    loss = h.sum()
    del h
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(2 * np.array([0.5, 1.5])))
    assert ref() is not None  # still part of loss's graph: it can be drawn and explained
    assert [p.grad_fn.name for p in loss._parents] == ["exp"]
    del loss
    assert ref() is None  # reference counting frees it with the output


def test_a_hook_that_raises_leaves_nothing_behind() -> None:
    x, w = _x(1.0, 2.0), _x(3.0, 4.0)

    def boom(g: cr.Tensor) -> None:
        raise RuntimeError("boom")

    handle = w.register_hook(boom)
    with pytest.raises(RuntimeError, match="boom"):
        (x * w).sum().backward()
    handle.remove()
    x.grad = w.grad = None
    (x * w).sum().backward()  # no stale gradient from the failed sweep
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0])


@pytest.mark.parametrize("copy_fn", ["copy", "deepcopy"])
def test_copied_nodes_take_a_new_place_in_creation_order(copy_fn: str) -> None:
    import copy

    x = _x(1.0, 2.0)
    h = x * 3.0
    h2 = getattr(copy, copy_fn)(h)
    assert h2._seq < h._seq  # made later, so swept earlier
    (h + h2).sum().backward()
    expected = [6.0, 6.0] if copy_fn == "copy" else [3.0, 3.0]  # a deep copy has its own leaf
    np.testing.assert_array_equal(x.grad.data, expected)


def test_an_unpickled_leaf_is_a_new_leaf() -> None:
    import pickle

    x = _x(1.0, 2.0)
    x2 = pickle.loads(pickle.dumps(x))
    assert x2._seq < x._seq and x2.requires_grad
    (x * x2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0])
    np.testing.assert_array_equal(x2.grad.data, [1.0, 2.0])


def test_python_numbers_keep_the_tensor_dtype() -> None:
    for dtype in (np.float32, np.float64):
        x = _x(1.0, -2.0, dtype=dtype)
        for y in (x * 1.5, 1.5 * x, x + 2, 2 - x, x / 4.0, 2.0 ** x, x ** 2):
            assert y.dtype == dtype
            np.testing.assert_array_equal(y.data, (y._node[0].forward)(
                *[a if not isinstance(a, cr.Tensor) else a.data for a in y._node[1]]))
        (x * 1.5).sum().backward()
        assert x.grad.dtype == dtype
        np.testing.assert_array_equal(x.grad.data, [1.5, 1.5])
    n = cr.tensor([1, 2])
    assert (n * 1.5).dtype == np.float64  # an integer tensor is promoted, as in NumPy
    np.testing.assert_array_equal((n * 1.5).data, [1.5, 3.0])
