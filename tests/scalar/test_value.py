"""Value: the worked examples of the seed notes, operators, accumulation, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule.scalar import Value, constant


def labelled(data: float, label: str) -> Value:
    return Value(data, label=label)


def name(v: Value, label: str) -> Value:
    v.label = label
    return v


def test_seed_001_example() -> None:
    # a = 2, b = -3, c = 5 (as in the notes), e = a*b, d = e + c, f = -2, L = f*d
    a, b, c, f = labelled(2.0, "a"), labelled(-3.0, "b"), labelled(5.0, "c"), labelled(-2.0, "f")
    e = name(a * b, "e")
    d = name(e + c, "d")
    L = name(f * d, "L")
    L.backward()
    assert [n.data for n in (a, b, c, e, d, f, L)] == [2, -3, 5, -6, -1, -2, 2]
    # L.grad = 1, f.grad = d, d.grad = f, e.grad = d.grad: addition passes the gradient on
    assert [n.grad for n in (L, f, d, e, c)] == [1, -1, -2, -2, -2]
    assert (a.grad, b.grad) == (6, -4)  # b·e.grad, a·e.grad


def test_seed_001_a_plus_a_accumulates() -> None:
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2


def test_seed_003_example_1() -> None:
    a, b, d = labelled(3.0, "a"), labelled(2.0, "b"), labelled(4.0, "d")
    c = name(a + b, "c")
    L = name(c * d, "L")
    L.backward()
    assert [(n.data, n.grad) for n in (a, b, c, d, L)] == [(3, 4), (2, 4), (5, 4), (4, 5), (20, 1)]


def test_seed_003_example_2() -> None:
    a, b, d, f = labelled(2.0, "a"), labelled(3.0, "b"), labelled(4.0, "d"), labelled(2.0, "f")
    c = name(a * b, "c")
    e = name(c + d, "e")
    L = name(e * f, "L")
    L.backward()
    got = [(n.data, n.grad) for n in (a, b, c, d, e, f, L)]
    assert got == [(2, 6), (3, 4), (6, 2), (4, 2), (10, 2), (2, 10), (20, 1)]


def test_seed_003_example_3() -> None:
    x = labelled(5.0, "x")
    y = name(x + 2, "y")
    z = name(x * 3, "z")
    L = name(y * z, "L")
    L.backward()
    assert [(n.data, n.grad) for n in (x, y, z, L)] == [(5, 36), (7, 15), (15, 7), (105, 1)]
    two, three = y.inputs[1], z.inputs[1]
    assert two.is_const and three.is_const and (two.data, three.data) == (2, 3)


def test_api_example_and_reflected_ops() -> None:
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    e = a * b
    e.label = "e"
    L = (e + 5.0) * -2.0
    L.backward()
    assert (L.data, a.grad, b.grad, a.label) == (2.0, 6.0, -4.0, "a")
    x = Value(4.0)
    for expr, value, grad in [
        (lambda: 2 * x, 8.0, 2.0),
        (lambda: 1 - x, -3.0, -1.0),
        (lambda: 2 / x, 0.5, -2 / 16),
        (lambda: 3 + x, 7.0, 1.0),
        (lambda: x - 1, 3.0, 1.0),
        (lambda: x / 2, 2.0, 0.5),
        (lambda: -x, -4.0, -1.0),
        (lambda: x**2, 16.0, 8.0),
        (lambda: np.float64(2.0) * x, 8.0, 2.0),
    ]:
        x.grad = 0.0
        out = expr()
        out.backward()
        assert (out.data, x.grad) == (value, grad)
    const = (2 * x).inputs[0]
    assert const.is_const and const.data == 2.0 and not x.is_const


def test_second_backward_accumulates_into_leaves_only() -> None:
    x = Value(2.0)
    y = x * x + 1
    y.backward()
    assert x.grad == 4
    y.backward()
    assert x.grad == 8  # micrograd gives 12: it keeps the stale grad of x*x
    assert y.inputs[0].grad == 1  # the intermediate x*x shows this pass's gradient


def test_backward_from_an_inner_node_after_the_outer_one() -> None:
    a, b = Value(2.0), Value(3.0)
    inner = a * b
    outer = inner * inner
    outer.backward()
    assert (inner.grad, a.grad) == (12.0, 36.0)
    a.grad = b.grad = 0.0
    inner.backward()
    assert (inner.grad, a.grad, b.grad) == (1.0, 3.0, 2.0)


def test_constant_and_inspection_helpers() -> None:
    c = constant(2)
    assert c.is_const and c.is_leaf and c.op == "const" and c.data == 2.0
    x = Value(3)
    assert isinstance(x.data, float) and x.op == "" and x.inputs == () and x.local_grads == ()
    y = x * 4
    assert y.op == "×" and y.inputs[0] is x and y.local_grads == (4.0, 3.0)
    assert (x**3).op == "**3" and (x**0.5).op == "**0.5"


def test_repr_is_micrograd_like() -> None:
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(-1.5, label="w")) == "Value(data=-1.5, grad=0.0, label='w')"


@pytest.mark.parametrize(
    "make, kind, words",
    [
        (lambda: Value("a"), TypeError, ["Value(data)", "str", "'a'", "float("]),
        (lambda: Value(None), TypeError, ["NoneType", "float("]),
        (lambda: Value(Value(1.0)), TypeError, [".data"]),
        (
            lambda: Value(2.0) ** Value(2.0),
            TypeError,
            ["exponent", "must be a number", ".log()).exp()"],
        ),
        (lambda: 2 ** Value(2.0), TypeError, ["exponent", "math.log(2)"]),
        (lambda: Value(-1.0).log(), ValueError, ["log(-1.0)", "x > 0"]),
        (lambda: Value(0.0).log(), ValueError, ["log(0.0)", "x > 0"]),
        (lambda: Value(-4.0).sqrt(), ValueError, ["sqrt(-4.0)", "x > 0"]),
        (lambda: Value(0.0).sqrt(), ValueError, ["sqrt(0.0)", "infinite", "epsilon"]),
        (lambda: Value(-8.0) ** 0.5, ValueError, ["-8.0 ** 0.5", "fractional"]),
        (lambda: Value(0.0) ** -1, ValueError, ["0.0 ** -1", "n < 1"]),
        (lambda: Value(1.0) / 0, ZeroDivisionError, ["/(1.0, 0.0)", "divisor is 0"]),
        (lambda: 1 / Value(0.0), ZeroDivisionError, ["divisor is 0"]),
        (lambda: Value(1000.0).exp(), OverflowError, ["exp(1000.0)", "too large"]),
        (lambda: Value(1e200) ** 2, OverflowError, ["1e+200 ** 2", "too large"]),
    ],
)
def test_invalid_input_is_explained(make, kind, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(kind) as info:
        make()
    for word in words:
        assert word in str(info.value)


def test_unsupported_operands_raise_type_error() -> None:
    with pytest.raises(TypeError, match="unsupported operand"):
        Value(1.0) + "x"  # type: ignore[operator]
    with pytest.raises(TypeError):
        [1.0] * Value(2.0)  # type: ignore[operator]


def test_values_at_the_edges_of_smooth_ops() -> None:
    # relu and abs use derivative 0 at 0, like PyTorch; sigmoid never overflows
    for op in ("relu", "abs"):
        x = Value(0.0)
        getattr(x, op)().backward()
        assert x.grad == 0.0
    x = Value(-1000.0)
    s = x.sigmoid()
    s.backward()
    assert s.data == 0.0 and x.grad == 0.0
    assert Value(800.0).sigmoid().data == 1.0
    z = Value(0.0)
    (z**0).backward()
    assert z.grad == 0.0 and math.isclose((Value(2.0) ** 0).data, 1.0)
