"""PyTorch-style training scripts, written once against a module namespace ``lib``.

Each script below uses ``lib.nn``, ``lib.optim``, ``lib.tensor``, ``lib.save``
... and nothing else, so it runs unchanged with ``lib = torch`` and with
``lib = chainrule``: the same program a PyTorch user would port by changing
its imports. In float64, from the same initial weights, the two must give
the same loss at every step, and resuming from a checkpoint saved halfway
must give bit-identical parameters to the uninterrupted run.

The comparisons with PyTorch are skipped when torch is not installed; the
checkpoint/resume checks of chainrule always run.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import chainrule as cr

LOSS_ATOL = 1e-8  # float64 on both sides: far tighter than the 1e-6 promised


def _lib(name: str) -> ModuleType:
    return cr if name == "chainrule" else pytest.importorskip("torch")


def _suffix(lib: ModuleType) -> str:
    return ".npz" if lib is cr else ".pt"


def _digits(n: int, images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    X, y = cr.data.load_digits(images=images, dtype=np.float64)
    X = (X[:n] - X[:n].mean(axis=0)) / (X[:n].std(axis=0) + 0.1)
    return X, y[:n]


def _batches(n: int, size: int, epoch: int) -> list[np.ndarray]:
    order = np.random.default_rng(epoch).permutation(n)
    return [order[i : i + size] for i in range(0, n - size + 1, size)]


def _numpy(state: dict[str, Any]) -> dict[str, np.ndarray]:
    """A state dict of either library as NumPy arrays (copies)."""
    return {k: np.array(v.detach().numpy() if hasattr(v, "detach") else v.data)
            for k, v in state.items()}


def _load_init(lib: ModuleType, model: Any, init: dict[str, np.ndarray]) -> None:
    model.load_state_dict({k: lib.tensor(v.copy()) for k, v in init.items()})


# ------------------------------------------------------------------ (a) an MLP on the digits
def build_mlp(lib: ModuleType) -> Any:
    class MLP(lib.nn.Module):  # type: ignore[name-defined, misc]
        def __init__(self, sizes: list[int]) -> None:
            super().__init__()
            self.layers = lib.nn.ModuleList(
                [lib.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:], strict=False)])
            self.act = lib.nn.LeakyReLU(0.1)

        def forward(self, x: Any) -> Any:
            for layer in self.layers[:-1]:
                x = self.act(layer(x))
            return self.layers[-1](x)

    return MLP([64, 32, 16, 10]).double()


def mlp_script(lib: ModuleType, init: dict[str, np.ndarray], epochs: int, ckpt: Path,
               stop_after: int | None = None, resume: bool = False) -> dict[str, Any]:
    """Train with SGD + momentum, gradient clipping and StepLR; checkpoint after each epoch.

    ``stop_after=k`` ends the run after epoch k (as if interrupted); ``resume``
    starts a fresh process's worth of objects from the checkpoint instead.
    """
    X, y = _digits(200)
    model = build_mlp(lib)
    _load_init(lib, model, init)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    loss_fn = lib.nn.CrossEntropyLoss()
    start = 0
    if resume:
        state = lib.load(ckpt)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
        start = state["epoch"]
    losses, norms = [], []
    for epoch in range(start, epochs):
        model.train()
        for idx in _batches(len(y), 40, epoch):
            xb, yb = lib.tensor(X[idx]), lib.tensor(y[idx])
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            norms.append(float(lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.25)))
            opt.step()
            losses.append(loss.item())
        sched.step()
        lib.save({"model": model.state_dict(), "optim": opt.state_dict(),
                  "sched": sched.state_dict(), "epoch": epoch + 1}, ckpt)
        if stop_after is not None and epoch + 1 == stop_after:
            break
    return {"losses": losses, "norms": norms, "params": _numpy(model.state_dict()),
            "lr": sched.get_last_lr()}


def _mlp_init() -> dict[str, np.ndarray]:
    cr.manual_seed(0)
    return _numpy(build_mlp(cr).state_dict())


@pytest.mark.parametrize("lib_name", ["chainrule", "torch"])
def test_mlp_resumed_from_a_checkpoint_is_bit_identical(lib_name: str, tmp_path: Path) -> None:
    lib, init = _lib(lib_name), _mlp_init()
    full = mlp_script(lib, init, 5, tmp_path / f"full{_suffix(lib)}")
    ckpt = tmp_path / f"half{_suffix(lib)}"
    first = mlp_script(lib, init, 5, ckpt, stop_after=2)
    second = mlp_script(lib, init, 5, ckpt, resume=True)
    assert first["losses"] + second["losses"] == full["losses"]
    assert second["lr"] == full["lr"]
    for name, value in full["params"].items():
        np.testing.assert_array_equal(second["params"][name], value, err_msg=name)


def test_mlp_matches_pytorch_step_by_step(tmp_path: Path) -> None:
    torch = _lib("torch")
    init = _mlp_init()
    ours = mlp_script(cr, init, 5, tmp_path / "a.npz")
    theirs = mlp_script(torch, init, 5, tmp_path / "a.pt")
    assert len(ours["losses"]) == 25
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=0, atol=LOSS_ATOL)
    np.testing.assert_allclose(ours["norms"], theirs["norms"], rtol=1e-9)
    assert max(ours["norms"]) > 0.25  # the clipping did something
    assert ours["lr"] == pytest.approx(theirs["lr"])
    for name, value in theirs["params"].items():
        np.testing.assert_allclose(ours["params"][name], value, rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------------ (b) a CNN with BatchNorm2d
def build_cnn(lib: ModuleType) -> Any:
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Identity(), nn.Linear(32, 10),
    ).to(lib.float64)


def cnn_script(lib: ModuleType, init: dict[str, np.ndarray], steps: int) -> dict[str, Any]:
    """Adam on image batches in training mode, a forward hook watching the first
    BatchNorm, then the loss in evaluation mode (running statistics)."""
    X, y = _digits(160, images=True)
    model = build_cnn(lib)
    _load_init(lib, model, init)
    opt = lib.optim.Adam(model.parameters(), lr=0.01)
    seen: list[float] = []
    handle = model[1].register_forward_hook(
        lambda module, args, out: seen.append(float(out.mean().item())))
    losses = []
    for step in range(steps):
        idx = _batches(len(y), 32, step)[0]
        loss = lib.nn.functional.cross_entropy(model(lib.tensor(X[idx])), lib.tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    handle.remove()
    model.eval()
    with lib.no_grad():
        eval_loss = lib.nn.functional.cross_entropy(model(lib.tensor(X)), lib.tensor(y)).item()
    return {"losses": losses, "eval": eval_loss, "hook": seen,
            "state": _numpy(model.state_dict())}


def test_cnn_with_batchnorm2d_matches_pytorch() -> None:
    torch = _lib("torch")
    cr.manual_seed(1)
    init = _numpy(build_cnn(cr).state_dict())
    ours, theirs = cnn_script(cr, init, 8), cnn_script(torch, init, 8)
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=0, atol=LOSS_ATOL)
    assert ours["losses"][-1] < ours["losses"][0]
    assert ours["eval"] == pytest.approx(theirs["eval"], abs=LOSS_ATOL)
    assert len(ours["hook"]) == 8  # called once per forward, and not after remove()
    np.testing.assert_allclose(ours["hook"], theirs["hook"], atol=1e-10)
    assert set(ours["state"]) == set(theirs["state"])  # running stats, num_batches_tracked
    for name, value in theirs["state"].items():
        np.testing.assert_allclose(ours["state"][name], value, rtol=1e-8, atol=1e-10,
                                   err_msg=name)


# ------------------------------------------------------------------ (c) a hand-written loop
def sgd_by_hand(lib: ModuleType, init: dict[str, np.ndarray], steps: int, spelling: str) -> Any:
    """A two-layer network as plain tensors, updated by hand under ``no_grad()``."""
    X, y = _digits(120)
    params = [lib.tensor(init[k].copy(), requires_grad=True) for k in ("w1", "b1", "w2", "b2")]
    w1, b1, w2, b2 = params
    lr, losses = 0.2, []
    for step in range(steps):
        idx = _batches(len(y), 30, step)[0]
        hidden = (lib.tensor(X[idx]) @ w1 + b1).tanh()
        loss = lib.nn.functional.cross_entropy(hidden @ w2 + b2, lib.tensor(y[idx]))
        loss.backward()
        with lib.no_grad():
            for p in params:
                if spelling == "in-place":
                    p -= lr * p.grad
                else:
                    p.data -= lr * p.grad.data
                p.grad = None
        losses.append(loss.item())
    return losses, [np.array(p.detach().numpy() if lib is not cr else p.data) for p in params]


def _hand_init() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {"w1": rng.normal(0, 0.1, (64, 24)), "b1": np.zeros(24),
            "w2": rng.normal(0, 0.1, (24, 10)), "b2": np.zeros(10)}


@pytest.mark.parametrize("spelling", ["data", "in-place"])
def test_sgd_by_hand_matches_pytorch(spelling: str) -> None:
    torch = _lib("torch")
    ours, our_params = sgd_by_hand(cr, _hand_init(), 12, spelling)
    theirs, their_params = sgd_by_hand(torch, _hand_init(), 12, spelling)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=LOSS_ATOL)
    assert ours[-1] < ours[0] - 0.1  # it learned something
    for a, b in zip(our_params, their_params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
