"""Every optimizer, learning-rate schedule and gradient clipping on the "cuda" device (the
CuPy test double): the same steps give the same parameters as on the cpu, the state lives
on the parameters' device, state dicts move between devices, and a step never waits for
the device."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend, nn
from chainrule.nn import functional as F
from chainrule.optim import lr_scheduler

from . import fakecupy

F64 = cr.float64
STEPS = 5

OPTIMIZERS = sorted(
    (cls for cls in vars(cr.optim).values()
     if isinstance(cls, type) and issubclass(cls, cr.optim.Optimizer)
     and cls is not cr.optim.Optimizer),
    key=lambda cls: cls.__name__)
SCHEDULERS = sorted(
    (cls for cls in vars(lr_scheduler).values()
     if isinstance(cls, type) and issubclass(cls, lr_scheduler.LRScheduler)
     and cls is not lr_scheduler.LRScheduler),
    key=lambda cls: cls.__name__)

# the settings each optimizer runs with: every branch of its update
SETTINGS: dict[str, list[dict[str, Any]]] = {
    "SGD": [dict(lr=0.1), dict(lr=0.1, momentum=0.9),
            dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1),
            dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05)],
    "Adam": [dict(lr=0.02), dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1),
             dict(lr=0.02, amsgrad=True)],
    "AdamW": [dict(lr=0.02), dict(lr=0.02, betas=(0.5, 0.9), weight_decay=0.3, amsgrad=True)],
    "RMSprop": [dict(lr=0.005), dict(lr=0.005, alpha=0.9, weight_decay=0.1, momentum=0.7),
                dict(lr=0.005, centered=True, momentum=0.5, eps=1e-6)],
}
SCHEDULE_SETTINGS: dict[str, dict[str, Any]] = {
    "StepLR": dict(step_size=2, gamma=0.5),
    "CosineAnnealingLR": dict(T_max=3, eta_min=1e-3),
}
CASES = [(cls, kw) for cls in OPTIMIZERS for kw in SETTINGS.get(cls.__name__, [{}])]
IDS = [f"{cls.__name__}-{SETTINGS[cls.__name__].index(kw)}" for cls, kw in CASES]


def no_syncs(syncs: list[tuple[str, str]]) -> str:
    return "host syncs: " + "; ".join(f"{what} at {where}" for what, where in syncs)


def test_every_optimizer_and_schedule_is_covered() -> None:
    assert {c.__name__ for c in OPTIMIZERS} == set(SETTINGS), "add its settings above"
    assert {c.__name__ for c in SCHEDULERS} == set(SCHEDULE_SETTINGS), "add its settings above"


# ---------------------------------------------------------------- one run, on either device
def _model() -> nn.Module:
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.Tanh(),
                         nn.Linear(8, 3)).to(F64)


def _data(device: str) -> tuple[cr.Tensor, cr.Tensor]:
    rng = np.random.default_rng(2)
    x = cr.tensor(rng.standard_normal((12, 5)), device=device)
    return x, cr.tensor(rng.integers(0, 3, 12), device=device)


def _groups(model: nn.Module, kw: dict[str, Any]) -> list[dict[str, Any]]:
    """Two parameter groups, the biases at half the learning rate."""
    named = list(model.named_parameters())
    return [{"params": [p for n, p in named if not n.endswith("bias")]},
            {"params": [p for n, p in named if n.endswith("bias")], "lr": kw["lr"] / 2}]


class Run:
    """A model, its optimizer, maybe a schedule and clipping, on one device."""

    def __init__(self, device: str, make: Callable[[Any], cr.optim.Optimizer],
                 schedule: Callable[[Any], Any] | None = None,
                 clip: dict[str, Any] | None = None, model: nn.Module | None = None) -> None:
        self.device = device
        self.model = (model or _model()).to(device)
        self.opt = make(self.model)
        self.sched = schedule(self.opt) if schedule else None
        self.clip = clip
        self.x, self.y = _data(device)
        self.norms: list[Any] = []

    def step(self) -> None:
        self.opt.zero_grad()
        F.cross_entropy(self.model(self.x), self.y).backward()
        if self.clip is not None:
            self.norms.append(nn.utils.clip_grad_norm_(self.model.parameters(), **self.clip))
        self.opt.step()
        if self.sched is not None:
            self.sched.step()

    def params(self) -> list[np.ndarray]:
        return [p.cpu().numpy() for p in self.model.parameters()]


def _same(a: Run, b: Run, rtol: float = 1e-12) -> None:
    for i, (p, q) in enumerate(zip(a.params(), b.params(), strict=True)):
        np.testing.assert_allclose(p, q, rtol=rtol, atol=1e-14, err_msg=f"parameter {i}")


def _state_devices(opt: cr.optim.Optimizer) -> set[str]:
    return {backend.device_of(v) for entry in opt.state.values() for v in entry.values()
            if backend.is_array(v)}


# ---------------------------------------------------------------- the same steps
@pytest.mark.parametrize("cls, kw", CASES, ids=IDS)
def test_steps_on_the_device_equal_the_cpu_and_never_sync(gpu: None, cls: type,
                                                          kw: dict[str, Any]) -> None:
    def make(model: nn.Module) -> cr.optim.Optimizer:
        return cls(_groups(model, kw), **kw)  # type: ignore[no-any-return]

    on_cpu, on_gpu = Run("cpu", make), Run("cuda", make)
    for _ in range(STEPS):
        on_cpu.step()
        with fakecupy.counting() as syncs:
            on_gpu.step()
        assert syncs == [], no_syncs(syncs)
    _same(on_cpu, on_gpu)
    plain_sgd = cls.__name__ == "SGD" and not kw.get("momentum")  # keeps no arrays
    assert _state_devices(on_gpu.opt) == (set() if plain_sgd else {"cuda:0"})
    assert _state_devices(on_cpu.opt) <= {"cpu"}
    for p in on_gpu.model.parameters():
        assert p.device == "cuda:0" and p.grad is not None and p.grad.device == "cuda:0"
        assert p.dtype == F64


@pytest.mark.parametrize("sched_cls", SCHEDULERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
def test_schedules_and_clipping_on_the_device_equal_the_cpu(gpu: None, cls: type,
                                                            sched_cls: type) -> None:
    kw = SETTINGS[cls.__name__][-1]
    runs = [Run(device, lambda m: cls(m.parameters(), **kw),
                lambda o: sched_cls(o, **SCHEDULE_SETTINGS[sched_cls.__name__]),
                clip=dict(max_norm=0.5))
            for device in ("cpu", "cuda")]
    for _ in range(STEPS):
        runs[0].step()
        with fakecupy.counting() as syncs:
            runs[1].step()
        assert syncs == [], no_syncs(syncs)
    _same(*runs)
    assert runs[0].sched.get_last_lr() == runs[1].sched.get_last_lr()
    for ours, theirs in zip(runs[1].norms, runs[0].norms, strict=True):
        assert ours.device == "cuda:0" and ours.shape == ()
        assert ours.cpu().item() == pytest.approx(theirs.item(), rel=1e-12)
    assert any(n.item() > 0.5 for n in runs[0].norms)  # the clipping did clip


# ---------------------------------------------------------------- gradient clipping
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("dtype", [cr.float32, F64], ids=["float32", "float64"])
def test_clip_grad_norm_on_the_device(gpu: None, norm_type: float, dtype: Any) -> None:
    rng = np.random.default_rng(4)
    grads = [rng.standard_normal(s).astype(dtype) for s in [(3, 4), (4,), (0,), (2, 2, 2)]]

    def clipped(device: str) -> tuple[Any, list[cr.Tensor]]:
        params = [cr.zeros(*g.shape, dtype=dtype, requires_grad=True, device=device)
                  for g in grads]
        for p, g in zip(params, grads, strict=True):
            p.grad = cr.tensor(g, device=device)
        with fakecupy.counting() as syncs:
            total = nn.utils.clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
        assert syncs == [], no_syncs(syncs)
        return total, params

    (host_total, host), (total, params) = clipped("cpu"), clipped("cuda")
    assert total.device == "cuda:0" and total.shape == () and total.dtype == dtype
    rtol = 1e-5 if dtype == cr.float32 else 1e-12
    flat = np.concatenate([g.ravel().astype(np.float64) for g in grads])
    expected = np.linalg.norm(flat, ord=norm_type)
    assert total.cpu().item() == pytest.approx(expected, rel=rtol)
    assert host_total.item() == pytest.approx(expected, rel=rtol)
    for p, q in zip(params, host, strict=True):
        assert p.grad.device == "cuda:0" and p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.numpy(), rtol=rtol)
    after = np.concatenate([p.grad.cpu().numpy().ravel() for p in params])
    assert np.linalg.norm(after.astype(np.float64), ord=norm_type) == pytest.approx(
        1.0, rel=1e-4)


def test_clip_grad_norm_matches_pytorch_on_the_device(gpu: None) -> None:
    torch = pytest.importorskip("torch", reason="pip install torch for the parity check")
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(s).astype(np.float32) * 3 for s in [(5, 3), (7,)]]
    theirs = [torch.zeros(*g.shape, requires_grad=True) for g in grads]
    for p, g in zip(theirs, grads, strict=True):
        p.grad = torch.from_numpy(g.copy())
    their_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm=2.0)
    ours = [cr.zeros(*g.shape, requires_grad=True, device="cuda") for g in grads]
    for p, g in zip(ours, grads, strict=True):
        p.grad = cr.tensor(g, device="cuda")
    total = nn.utils.clip_grad_norm_(ours, max_norm=2.0)
    assert total.cpu().item() == pytest.approx(their_total.item(), rel=1e-6)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.numpy(), rtol=1e-6)


def test_checking_for_a_nonfinite_norm_is_the_one_sync_and_says_where(gpu: None) -> None:
    p = cr.zeros(3, requires_grad=True, device="cuda")
    p.grad = cr.tensor([1.0, 2.0, 2.0], device="cuda")
    # error_if_nonfinite asks for the norm's value on the host: that read is the only sync
    with fakecupy.counting() as syncs:
        total = nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    [(what, where)] = syncs
    assert what == "bool" and where.startswith("nn/utils.py:") and "(clip_grad_norm_)" in where
    assert total.cpu().item() == pytest.approx(3.0)
    p.grad = cr.tensor([np.inf, 1.0, 0.0], device="cuda")
    with pytest.raises(FloatingPointError, match="total norm of order 2 .* is inf"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_on_the_device(gpu: None) -> None:
    p = cr.zeros(4, requires_grad=True, device="cuda")
    p.grad = cr.tensor([-3.0, 0.5, 2.0, -0.2], device="cuda")
    with fakecupy.counting() as syncs:
        nn.utils.clip_grad_value_([p], 1.0)
    assert syncs == [], no_syncs(syncs)
    assert p.grad.device == "cuda:0"
    np.testing.assert_array_equal(p.grad.cpu().numpy(), np.float32([-1.0, 0.5, 1.0, -0.2]))


def test_clipping_gradients_on_two_devices_is_a_device_error(gpu: None) -> None:
    a = cr.zeros(2, requires_grad=True)
    b = cr.zeros(2, requires_grad=True, device="cuda")
    a.grad, b.grad = cr.ones(2), cr.ones(2, device="cuda")
    with pytest.raises(cr.DeviceError, match=r"clip_grad_norm_: .*cpu and cuda:0.*model\.to"):
        nn.utils.clip_grad_norm_([a, b], 1.0)


# ---------------------------------------------------------------- state dicts across devices
@pytest.mark.parametrize("cls, kw", CASES, ids=IDS)
@pytest.mark.parametrize("source, target", [("cuda", "cpu"), ("cpu", "cuda"),
                                            ("cuda", "cuda")])
def test_state_dict_resumes_on_another_device(gpu: None, tmp_path: Path, cls: type,
                                              kw: dict[str, Any], source: str,
                                              target: str) -> None:
    def make(model: nn.Module) -> cr.optim.Optimizer:
        return cls(_groups(model, kw), **kw)  # type: ignore[no-any-return]

    straight = Run("cpu", make)  # the run that never stops
    first = Run(source, make)
    for _ in range(3):
        straight.step()
        first.step()
    state = first.opt.state_dict()
    source_device = "cuda:0" if source == "cuda" else "cpu"
    moments = [v for entry in state["state"].values() for v in entry.values()
               if isinstance(v, cr.Tensor)]
    assert all(v.device == source_device for v in moments)
    cr.save({"model": first.model.state_dict(), "opt": state}, tmp_path / "ckpt.npz")
    ckpt = cr.load(tmp_path / "ckpt.npz")
    assert all(v.device == "cpu" for v in ckpt["model"].values())

    resumed = Run(target, make, model=_model())
    resumed.model.load_state_dict(ckpt["model"])
    resumed.opt.load_state_dict(ckpt["opt"])
    if moments:
        assert _state_devices(resumed.opt) == {"cuda:0" if target == "cuda" else "cpu"}
    for _ in range(3):
        straight.step()
        with fakecupy.counting() as syncs:
            resumed.step()
        assert syncs == [], no_syncs(syncs)
    _same(straight, resumed)


def test_a_state_dict_moves_between_optimizers_on_two_devices_directly(gpu: None) -> None:
    def make(model: nn.Module) -> cr.optim.Optimizer:
        return cr.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)

    on_gpu = Run("cuda", make)
    on_gpu.step()
    on_cpu = Run("cpu", make, model=copy.deepcopy(on_gpu.model).to("cpu"))
    on_cpu.opt.load_state_dict(on_gpu.opt.state_dict())  # device tensors into a cpu optimizer
    assert _state_devices(on_cpu.opt) == {"cpu"}
    for _ in range(2):
        on_gpu.step()
        on_cpu.step()
    _same(on_cpu, on_gpu)
    snapshot = on_gpu.opt.state_dict()
    on_gpu.step()  # a state dict is a copy: training on does not change it
    assert snapshot["state"][0]["step"] == 3
    assert not np.array_equal(snapshot["state"][0]["exp_avg"].cpu().numpy(),
                              on_gpu.opt.state_dict()["state"][0]["exp_avg"].cpu().numpy())


def test_scheduler_state_dict_round_trips_with_a_device_optimizer(gpu: None) -> None:
    for sched_cls in SCHEDULERS:
        settings = SCHEDULE_SETTINGS[sched_cls.__name__]
        run = Run("cuda", lambda m: cr.optim.SGD(m.parameters(), lr=0.1),
                  lambda o, c=sched_cls, s=settings: c(o, **s))
        for _ in range(3):
            run.step()
        saved = run.sched.state_dict()
        again = Run("cpu", lambda m: cr.optim.SGD(m.parameters(), lr=0.1),
                    lambda o, c=sched_cls, s=settings: c(o, **s))
        again.opt.load_state_dict(run.opt.state_dict())
        again.sched.load_state_dict(saved)
        run.step()
        again.step()
        assert again.sched.get_last_lr() == run.sched.get_last_lr(), sched_cls.__name__

