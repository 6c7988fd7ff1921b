"""Optimizer and scheduler state dicts: a run resumed from a checkpoint continues exactly
(bit for bit) as the uninterrupted one, through cr.save / cr.load too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim.lr_scheduler import CosineAnnealingLR, StepLR

from .conftest import grad_of

CASES: list[tuple[str, dict[str, Any]]] = [
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.02, amsgrad=True)),
    ("AdamW", dict(lr=0.02, betas=(0.5, 0.9), weight_decay=0.3)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


class Run:
    """Two parameters (float32 and float64, in two groups), an optimizer and a schedule."""

    def __init__(self, name: str, kw: dict[str, Any], sched: str) -> None:
        rng = np.random.default_rng(0)
        self.params = [cr.tensor(rng.normal(size=(3, 2)).astype(np.float32), requires_grad=True),
                       cr.tensor(rng.normal(size=4), requires_grad=True)]
        groups = [{"params": [self.params[0]]}, {"params": [self.params[1]], "lr": kw["lr"] / 2}]
        self.opt = getattr(optim, name)(groups, **kw)
        self.sched = (StepLR(self.opt, step_size=3, gamma=0.5) if sched == "step"
                      else CosineAnnealingLR(self.opt, T_max=4, eta_min=1e-3))

    def steps(self, n: int) -> None:
        for _ in range(n):
            self.opt.zero_grad()
            for p in self.params:
                p.grad = cr.tensor(grad_of(p.data.astype(np.float64)).astype(p.data.dtype))
            self.opt.step()
            self.sched.step()

    def values(self) -> list[np.ndarray]:
        return [p.data.copy() for p in self.params]


@pytest.mark.parametrize("sched", ["step", "cosine"])
@pytest.mark.parametrize(("name", "kw"), CASES, ids=IDS)
def test_resumed_run_is_bit_identical(name: str, kw: dict[str, Any], sched: str,
                                      tmp_path: Path) -> None:
    full = Run(name, kw, sched)
    full.steps(10)

    first = Run(name, kw, sched)
    first.steps(4)
    path = tmp_path / "ckpt.npz"
    cr.save({"params": [p.detach() for p in first.params], "optim": first.opt.state_dict(),
             "sched": first.sched.state_dict(), "step": 4}, path)
    first.steps(3)  # training on after the save changes nothing in the file

    second = Run(name, kw, sched)  # a fresh start: different objects, default state
    ckpt = cr.load(path)
    for p, saved in zip(second.params, ckpt["params"], strict=True):
        p.data[...] = saved.data
    second.opt.load_state_dict(ckpt["optim"])
    second.sched.load_state_dict(ckpt["sched"])
    assert ckpt["step"] == 4
    second.steps(6)
    for a, b in zip(second.values(), full.values(), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert second.sched.get_last_lr() == full.sched.get_last_lr()


def test_state_dict_layout_is_pytorchs_and_a_snapshot() -> None:
    run = Run("Adam", dict(lr=0.01), "step")
    run.steps(2)
    state = run.opt.state_dict()
    assert set(state) == {"state", "param_groups"}
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"][1]["lr"] == 0.005 and state["param_groups"][0]["betas"] == (
        0.9, 0.999)
    assert sorted(state["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert state["state"][0]["step"] == 2
    exp_avg = state["state"][0]["exp_avg"]
    assert isinstance(exp_avg, cr.Tensor) and exp_avg.dtype == np.float32
    before = exp_avg.data.copy()
    run.steps(1)
    np.testing.assert_array_equal(exp_avg.data, before)


def test_state_dict_matches_pytorchs_keys() -> None:
    torch = pytest.importorskip("torch")
    for name, kw in CASES:
        ours = Run(name, kw, "step")
        ours.steps(1)
        p = torch.zeros(3, requires_grad=True)
        theirs = getattr(torch.optim, name)([p], **kw)
        p.grad = torch.ones(3)
        theirs.step()
        assert set(ours.opt.state_dict()["state"][0]) == set(theirs.state_dict()["state"][0])


def test_load_state_dict_refuses_what_does_not_fit() -> None:
    run = Run("SGD", dict(lr=0.1, momentum=0.9), "step")
    run.steps(1)
    state = run.opt.state_dict()
    one_group = optim.SGD([cr.zeros(3, requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="the state dict has 2 parameter groups, this optimizer 1"):
        one_group.load_state_dict(state)
    other = Run("SGD", dict(lr=0.1, momentum=0.9), "step")
    other.params[0].data = np.zeros((2, 2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"'momentum_buffer' has shape \(3, 2\) in the state dict "
                                         r"but its parameter has shape \(2, 2\)"):
        other.opt.load_state_dict(state)
    with pytest.raises(TypeError, match="expected a dict with 'state' and 'param_groups'"):
        other.opt.load_state_dict({"lr": 0.1})
    with pytest.raises(TypeError, match="StepLR.load_state_dict: expected a dict"):
        other.sched.load_state_dict([1, 2])  # type: ignore[arg-type]


def test_loading_restores_hyperparameters_and_casts_to_the_parameter_dtype() -> None:
    run = Run("RMSprop", dict(lr=0.01, momentum=0.5), "step")
    run.steps(3)
    state = run.opt.state_dict()
    state["state"][0]["square_avg"] = state["state"][0]["square_avg"].data.astype(np.float64)
    fresh = Run("RMSprop", dict(lr=0.5, momentum=0.5), "step")
    fresh.opt.load_state_dict(state)
    assert [g["lr"] for g in fresh.opt.param_groups] == [g["lr"] for g in run.opt.param_groups]
    assert fresh.opt.param_groups[0]["params"][0] is fresh.params[0]
    assert fresh.opt.state[id(fresh.params[0])]["square_avg"].dtype == np.float32
