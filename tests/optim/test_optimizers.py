"""Optimizers: closed-form checks without torch, then parity with PyTorch."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from chainrule import Tensor, optim
from chainrule.optim.lr_scheduler import CosineAnnealingLR, StepLR

from .conftest import grad_of


def _const_grad_run(opt_cls: Any, g: float, steps: int, x0: float = 1.0, **kw: Any) -> float:
    p = Tensor(np.array([x0]), requires_grad=True)
    opt = opt_cls([p], **kw)
    for _ in range(steps):
        p.grad = Tensor(np.array([g]))
        opt.step()
    return float(p.data[0])


def test_sgd_plain_on_a_quadratic_is_geometric() -> None:
    # f = a x^2 / 2, so x_t = x0 (1 - lr a)^t
    p = Tensor(np.array([2.0, -1.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    for _ in range(20):
        p.grad = Tensor(3.0 * p.data)
        opt.step()
    np.testing.assert_allclose(p.data, np.array([2.0, -1.0]) * 0.7**20, rtol=1e-12)


def test_sgd_momentum_with_a_constant_gradient() -> None:
    # the buffer after t steps is g (1 - m^t) / (1 - m)
    lr, m, g, T = 0.1, 0.9, 0.5, 20
    x = _const_grad_run(optim.SGD, g, T, lr=lr, momentum=m)
    expected = 1.0 - lr * g * sum((1 - m**t) / (1 - m) for t in range(1, T + 1))
    assert x == pytest.approx(expected, rel=1e-12)
    # nesterov steps by g + m * buf
    xn = _const_grad_run(optim.SGD, g, T, lr=lr, momentum=m, nesterov=True)
    expected_n = 1.0 - lr * g * sum(1 + m * (1 - m**t) / (1 - m) for t in range(1, T + 1))
    assert xn == pytest.approx(expected_n, rel=1e-12)
    # dampening scales every term after the first
    xd = _const_grad_run(optim.SGD, g, 2, lr=lr, momentum=m, dampening=0.5)
    assert xd == pytest.approx(1.0 - lr * g - lr * (m * g + 0.5 * g), rel=1e-12)


def test_weight_decay_alone_shrinks_geometrically() -> None:
    x = _const_grad_run(optim.SGD, 0.0, 10, lr=0.1, weight_decay=0.5)
    assert x == pytest.approx(0.95**10, rel=1e-12)


def test_adam_with_a_constant_gradient_moves_lr_per_step() -> None:
    # bias correction makes m_hat = g and v_hat = g^2 exactly
    lr, g, eps, T = 0.01, -2.0, 1e-8, 20
    x = _const_grad_run(optim.Adam, g, T, lr=lr, eps=eps)
    assert x == pytest.approx(1.0 - T * lr * g / (abs(g) + eps), rel=1e-10)


def test_adamw_decays_the_weight_not_the_gradient() -> None:
    lr, wd, g = 0.01, 0.1, 3.0
    x = _const_grad_run(optim.AdamW, g, 5, lr=lr, weight_decay=wd)
    expected = 1.0
    for _ in range(5):
        expected = expected * (1 - lr * wd) - lr * g / (abs(g) + 1e-8)
    assert x == pytest.approx(expected, rel=1e-10)
    # Adam's L2 weight decay goes into the gradient instead: one step, g + wd x
    x1 = _const_grad_run(optim.Adam, g, 1, lr=lr, weight_decay=wd)
    assert x1 == pytest.approx(1.0 - lr * (g + wd) / (abs(g + wd) + 1e-8), rel=1e-10)


def test_rmsprop_with_a_constant_gradient() -> None:
    lr, alpha, g = 0.01, 0.9, 0.5
    x = _const_grad_run(optim.RMSprop, g, 3, lr=lr, alpha=alpha)
    expected = 1.0 - sum(lr * g / (abs(g) * math.sqrt(1 - alpha**t) + 1e-8) for t in range(1, 4))
    assert x == pytest.approx(expected, rel=1e-10)


def test_each_optimizer_descends_and_keeps_float32() -> None:
    for make in (
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
        lambda ps: optim.Adam(ps, lr=0.05),
        lambda ps: optim.AdamW(ps, lr=0.05),
        lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    ):
        p = Tensor(np.array([3.0, -2.0], dtype=np.float32), requires_grad=True)
        opt = make([p])
        for _ in range(100):
            p.grad = Tensor((2 * p.data).astype(np.float32))
            opt.step()
        assert p.data.dtype == np.float32
        assert np.abs(p.data).max() < 1.0, type(opt).__name__


def test_zero_grad_and_params_without_grad() -> None:
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([a, b], lr=1.0)
    a.grad = Tensor(np.ones(2))
    opt.step()  # b has no gradient: left alone
    np.testing.assert_array_equal(a.data, [0.0, 0.0])
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and not a.grad.data.any() and b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_param_groups_have_their_own_hyperparameters() -> None:
    a = Tensor(np.ones(1), requires_grad=True)
    b = Tensor(np.ones(1), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad, b.grad = Tensor(np.ones(1)), Tensor(np.ones(1))
    opt.step()
    assert a.data[0] == pytest.approx(0.9) and b.data[0] == pytest.approx(0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda ps: optim.SGD(ps, lr=-0.1), r"SGD: invalid lr=-0.1"),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=-1), r"SGD: invalid momentum=-1"),
        (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), r"SGD: nesterov=True needs"),
        (lambda ps: optim.Adam(ps, betas=(1.0, 0.999)), r"Adam: invalid betas\[0\]=1.0"),
        (lambda ps: optim.AdamW(ps, betas=(0.9, -0.1)), r"AdamW: invalid betas\[1\]=-0.1"),
        (lambda ps: optim.Adam(ps, eps=-1e-8), r"Adam: invalid eps"),
        (lambda ps: optim.Adam(ps, lr=float("nan")), r"Adam: invalid lr=nan"),
        (lambda ps: optim.RMSprop(ps, alpha=-0.5), r"RMSprop: invalid alpha=-0.5"),
        (lambda ps: optim.RMSprop(ps, weight_decay=-1), r"RMSprop: invalid weight_decay"),
        (lambda ps: optim.SGD([], lr=0.1), r"SGD: got an empty parameter list"),
    ],
)
def test_bad_hyperparameters_name_the_optimizer_and_value(
    make: Callable[[list[Tensor]], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make([Tensor(np.ones(1), requires_grad=True)])


def test_bad_params_are_type_errors() -> None:
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(Tensor(np.ones(1), requires_grad=True), lr=0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="parameter 0 is a ndarray|parameter 0 is a list"):
        optim.SGD([[1.0]], lr=0.1)  # type: ignore[list-item]


def test_step_lr_and_cosine_closed_forms() -> None:
    p = Tensor(np.ones(1), requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(7):
        lrs.append(sched.get_last_lr()[0])
        sched.step()
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]

    opt = optim.SGD([p], lr=0.1)
    cos = CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for epoch in range(11):
        closed = 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * epoch / 10)) / 2
        assert opt.param_groups[0]["lr"] == pytest.approx(closed, rel=1e-12, abs=1e-15)
        cos.step()
    with pytest.raises(ValueError, match="T_max"):
        CosineAnnealingLR(opt, T_max=0)


# ------------------------------------------------------------------ PyTorch parity

CASES: list[tuple[str, dict[str, Any]]] = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.8, nesterov=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.02)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, amsgrad=True)),
    ("AdamW", dict(lr=0.02)),
    ("AdamW", dict(lr=0.02, betas=(0.5, 0.9), weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.005)),
    ("RMSprop", dict(lr=0.005, alpha=0.9, weight_decay=0.1, momentum=0.7)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5, eps=1e-6)),
]


def _torch_steps(
    name: str, kw: dict[str, Any], x0: np.ndarray, steps: int, scheduler: str | None = None
) -> np.ndarray:
    torch = pytest.importorskip("torch")
    p = torch.tensor(x0.copy(), requires_grad=True)
    opt = getattr(torch.optim, name)([p], **kw)
    sched = None
    if scheduler == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    elif scheduler == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7, eta_min=1e-3)
    for _ in range(steps):
        opt.zero_grad()
        p.grad = torch.from_numpy(grad_of(p.detach().numpy().copy()))
        opt.step()
        if sched is not None:
            sched.step()
    return p.detach().numpy()


@pytest.mark.parametrize(("name", "kw"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_twenty_steps_match_pytorch(name: str, kw: dict[str, Any], run_steps: Any) -> None:
    x0 = np.random.default_rng(0).normal(size=(3, 4))
    expected = _torch_steps(name, kw, x0, 20)
    got = run_steps(lambda ps: getattr(optim, name)(ps, **kw), x0, 20)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("which", ["step", "cosine"])
def test_schedulers_match_pytorch_over_twenty_epochs(which: str, run_steps: Any) -> None:
    x0 = np.random.default_rng(1).normal(size=5)
    expected = _torch_steps("SGD", dict(lr=0.05, momentum=0.9), x0, 20, scheduler=which)

    def sched(opt: Any) -> Any:
        if which == "step":
            return StepLR(opt, step_size=4, gamma=0.5)
        return CosineAnnealingLR(opt, T_max=7, eta_min=1e-3)

    got = run_steps(lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9), x0, 20, scheduler=sched)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
