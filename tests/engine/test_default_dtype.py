"""One default floating dtype, float32 as in PyTorch; NumPy arrays keep their own."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def float64_default() -> Iterator[None]:
    cr.set_default_dtype(cr.float64)
    try:
        yield
    finally:
        cr.set_default_dtype(cr.float32)


def test_python_numbers_and_lists_take_the_default() -> None:
    assert cr.get_default_dtype() == np.float32
    assert cr.tensor([1.0, 2.0]).dtype == np.float32
    assert cr.tensor(3.5).dtype == np.float32
    assert cr.tensor([[1, 2.5]]).dtype == np.float32
    assert cr.tensor([1, 2]).dtype == np.int64  # integers stay integers
    assert cr.tensor([True]).dtype == np.bool_


def test_numpy_arrays_keep_their_dtype() -> None:
    assert cr.tensor(np.array([1.0])).dtype == np.float64
    assert cr.tensor(np.float64(2.0)).dtype == np.float64
    assert cr.tensor(np.array([1.0], np.float16)).dtype == np.float16
    assert cr.tensor([1.0], dtype=cr.float64).dtype == np.float64  # asked for


def test_the_float_factories_take_the_default() -> None:
    for t in (cr.zeros(2), cr.ones(2, 3), cr.rand(2), cr.randn(2), cr.eye(2), cr.full(2, 0.5)):
        assert t.dtype == np.float32, t
    assert cr.arange(3).dtype.kind == "i" and cr.full(2, 1).dtype.kind == "i"


def test_set_default_dtype(float64_default: None) -> None:
    assert cr.tensor([1.0]).dtype == np.float64 and cr.zeros(1).dtype == np.float64
    assert cr.nn.Linear(2, 3).weight.dtype == np.float64


def test_new_layer_parameters_take_the_default() -> None:
    assert cr.nn.Linear(2, 3).weight.dtype == np.float32
    assert cr.nn.Conv2d(1, 2, 3).weight.dtype == np.float32


def test_a_default_must_be_floating() -> None:
    with pytest.raises(TypeError, match="floating"):
        cr.set_default_dtype(np.int32)
    assert cr.get_default_dtype() == np.float32


def test_gradcheck_works_in_float64_whatever_the_default() -> None:
    x = cr.tensor([0.3, -1.2], requires_grad=True)  # float32
    assert cr.gradcheck(lambda t: (t.tanh() * t).sum(), (x,))
    assert cr.gradgradcheck(lambda t: (t.sin() ** 2).sum(), (x,))
