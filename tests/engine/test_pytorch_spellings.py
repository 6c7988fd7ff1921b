"""PyTorch's spellings on Tensor (API.md §2), NumPy meeting a Tensor, and the
things that used to be accepted silently."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def test_size_numel_dim() -> None:
    t = cr.zeros(2, 3)
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-2) == 2
    assert t.numel() == 6 and t.dim() == 2
    with pytest.raises(IndexError, match="dim 2"):
        t.size(2)


def test_conversions() -> None:
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    d = x.double()
    assert d.dtype == np.float64 and d.grad_fn.name == "astype"
    assert x.float() is x and x.to(cr.float32) is x and x.cpu() is x and x.to("cpu") is x
    assert x.to(cr.tensor(np.zeros(1))).dtype == np.float64
    (d * d).sum().backward()
    assert x.grad.dtype == np.float32  # the gradient is cast back
    with pytest.raises(ValueError, match="device 'gpu'"):
        x.to("gpu")
    assert x.device == "cpu"


def test_clone_is_a_differentiable_copy() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.data is not x.data and c.grad_fn.name == "clone"
    with cr.no_grad():
        c += 1
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    (x.clone() * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_dim_and_keepdim_and_max_with_indices() -> None:
    x = cr.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert x.sum(dim=1, keepdim=True).shape == (2, 1)
    assert x.mean(dim=0).shape == (3,)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.data, [5.0, 7.0])
    np.testing.assert_array_equal(indices.data, [1, 0])
    assert x.max(dim=1).values.shape == (2,) and x.min(dim=0).indices.tolist() == [0, 1, 0]
    np.testing.assert_array_equal(x.max(axis=1).data, [5.0, 7.0])  # NumPy's: the values
    assert x.argmax().item() == 3 and x.argmax(dim=1).tolist() == [1, 0]
    with pytest.raises(TypeError, match="not both"):
        x.sum(axis=0, dim=0)


def test_requires_grad_can_change_only_on_a_leaf() -> None:
    x = cr.tensor([1.0], requires_grad=True)
    y = x * 2
    with pytest.raises(cr.GraphError, match="only a leaf.*detach"):
        y.requires_grad = False
    assert y.requires_grad
    x.requires_grad = False
    assert not (x * 2).requires_grad
    with pytest.raises(TypeError, match="floating"):
        cr.tensor([1, 2]).requires_grad = True


def test_no_grad_as_a_bare_decorator_and_with_parentheses() -> None:
    x = cr.tensor([1.0], requires_grad=True)

    @cr.no_grad
    def bare() -> cr.Tensor:
        return x * 2

    @cr.no_grad()
    def called() -> cr.Tensor:
        return x * 2

    assert not bare().requires_grad and not called().requires_grad
    assert (x * 2).requires_grad and bare.__name__ == "bare"


def test_numpy_meeting_a_tensor() -> None:
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    a = np.array([10.0, 20.0])
    for expr, expected in [(lambda: a + x, [11.0, 22.0]), (lambda: a - x, [9.0, 18.0]),
                           (lambda: a * x, [10.0, 40.0]), (lambda: a / x, [10.0, 10.0]),
                           (lambda: np.exp(x), np.exp([1.0, 2.0]))]:
        out = expr()
        assert isinstance(out, cr.Tensor) and out.requires_grad
        np.testing.assert_allclose(out.data, expected)
    (a * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, a)
    assert (a < x).tolist() == [False, False]
    with pytest.raises(TypeError, match="numpy.arctan on a Tensor"):
        np.arctan(x)
    assert np.asarray(x).tolist() == [1.0, 2.0]


def test_function_apply_on_values_is_refused() -> None:
    class Cube(cr.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            return x**3

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            return g

    with pytest.raises(TypeError, match="Value.*works on Tensors"):
        Cube.apply(cr.Value(2.0))
