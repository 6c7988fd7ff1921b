"""Misuse of the transforms gives a clear error naming what was expected."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr


def f2(x: Any, y: Any) -> Any:
    return (x * y).sum()


X, Y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])


@pytest.mark.parametrize("transform", [cr.grad, cr.value_and_grad])
def test_grad_of_a_non_scalar_output_points_to_jacrev(transform: Any) -> None:
    with pytest.raises(cr.ShapeError) as e:
        transform(lambda x: x * 2.0)(X)
    msg = str(e.value)
    assert "scalar" in msg and "(3,)" in msg
    assert "jacrev" in msg


TRANSFORMS = [cr.grad, cr.value_and_grad, cr.jacrev, cr.jacfwd]
NAMES = {cr.grad: "grad", cr.value_and_grad: "grad", cr.jacrev: "jacrev", cr.jacfwd: "jacfwd"}


@pytest.mark.parametrize("transform", TRANSFORMS, ids=["grad", "value_and_grad", "jacrev",
                                                       "jacfwd"])
@pytest.mark.parametrize("argnums", [2, -3, (0, 2)])
def test_argnums_out_of_range(transform: Any, argnums: Any) -> None:
    with pytest.raises(ValueError) as e:
        transform(f2, argnums=argnums)(X, Y)
    msg = str(e.value)
    assert msg.startswith(NAMES[transform] + ":")
    assert f"argnums={argnums!r}" in msg and "2 positional argument" in msg


@pytest.mark.parametrize("transform", TRANSFORMS, ids=["grad", "value_and_grad", "jacrev",
                                                       "jacfwd"])
@pytest.mark.parametrize("argnums", [
    1.0, None, "0", True, (0, 1.5), ()])
def test_argnums_of_the_wrong_type(transform: Any, argnums: Any) -> None:
    with pytest.raises(TypeError, match=r"argnums must be an int or a tuple of ints, got"):
        transform(f2, argnums=argnums)(X, Y)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=["grad", "value_and_grad", "jacrev",
                                                       "jacfwd"])
@pytest.mark.parametrize("argnums", [(0, 0), (1, -1)])
def test_argnums_naming_an_argument_twice(transform: Any, argnums: Any) -> None:
    with pytest.raises(ValueError, match=r"names an argument twice") as e:
        transform(f2, argnums=argnums)(X, Y)
    assert f"argnums={argnums!r}" in str(e.value)


def test_hessian_argnums_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"argnums=1 but the function was called with 1 "):
        cr.hessian(lambda x: (x ** 3).sum(), argnums=1)(X)


def test_tangent_whose_shape_differs_from_its_primal() -> None:
    with pytest.raises(cr.ShapeError) as e:
        cr.jvp(f2, (X, Y), (np.ones(3), np.ones((3, 1))))
    msg = str(e.value)
    assert "tangent 1" in msg and "(3, 1)" in msg and "(3,)" in msg and "primal" in msg
    with pytest.raises(cr.ShapeError, match=r"tangent 0 has shape \(\) but its primal has "
                                            r"shape \(3,\)"):
        cr.jvp(lambda x: x, (X,), (1.0,))


def test_cotangent_of_the_wrong_shape() -> None:
    _, vjp_fn = cr.vjp(lambda x: x[:, None] * np.ones(2), X)  # output (3, 2)
    with pytest.raises(cr.ShapeError) as e:
        vjp_fn(np.ones((2, 3)))
    msg = str(e.value)
    assert "cotangent has shape (2, 3)" in msg and "output has shape (3, 2)" in msg
    with pytest.raises(cr.ShapeError, match=r"cotangent has shape \(6,\)"):
        vjp_fn(cr.tensor(np.ones(6)))
    assert vjp_fn(np.ones((3, 2)))[0].shape == (3,)  # a right one still works afterwards


def test_jvp_wants_tuples_of_matching_length() -> None:
    with pytest.raises(TypeError, match=r"primals and tangents must be tuples"):
        cr.jvp(lambda x: x, X, np.ones(3))
    with pytest.raises(ValueError, match=r"2 primal\(s\) but 1 tangent\(s\)"):
        cr.jvp(f2, (X, Y), (np.ones(3),))


@pytest.mark.parametrize("transform", [cr.grad, cr.jacrev, cr.jacfwd])
def test_integer_inputs_are_refused_with_the_fix(transform: Any) -> None:
    with pytest.raises(TypeError, match=r"floating-point") as e:
        transform(lambda x: (x ** 2).sum())(np.array([1, 2]))
    assert "int64" in str(e.value)
    with pytest.raises(TypeError, match=r"pass 2.0, not 2"):
        transform(lambda x: x ** 2)(2)


def test_non_numeric_input_and_non_tensor_output() -> None:
    with pytest.raises(TypeError, match=r"argument 0 is a str"):
        cr.grad(lambda x: x)("a")
    with pytest.raises(TypeError, match=r"must return a Tensor, got str"):
        cr.grad(lambda x: "a")(1.0)
    with pytest.raises(TypeError, match=r"must return a Tensor, got dict"):
        cr.jacfwd(lambda x: {"y": x})(X)
