"""chainrule on a real GPU, through CuPy: the op table, training, and no host sync in a
training step (CuPy's ``cupyx.allow_synchronize(False)`` raises on any sync).

Skipped without a GPU; ``scripts/gpu_check.sh`` runs them with the GPU benchmark.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.ops.op_table import CASES, FIRST, OpCase

import chainrule as cr
from chainrule import backend, nn, optim
from chainrule import train as tr
from chainrule.nn import functional as F

pytestmark = pytest.mark.gpu


@pytest.fixture
def cupy() -> Iterator[Any]:
    yield backend.cuda_modules()[0]
    backend._PENDING.clear()


def _on_device(value: Any, cupy: Any) -> Any:
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "fb":
        return cupy.asarray(value)
    return value


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@settings(max_examples=2, deadline=None)  # each new kernel compiles once
@given(data=st.data())
def test_every_op_on_the_gpu(case: OpCase, data: st.DataObject) -> None:
    cupy = backend.cuda_modules()[0]
    sample = data.draw(case.sample(FIRST), label="sample")
    xs = [cr.tensor(a, dtype=cr.float64, requires_grad=True, device="cuda")
          for a in sample.arrays]
    params = {k: _on_device(v, cupy) for k, v in sample.params.items()}
    out = case.fn(*xs, **params)
    assert out.device == "cuda:0"
    np.testing.assert_allclose(out.cpu().numpy(), case.ref(*sample.arrays, **sample.params),
                               rtol=1e-10, atol=1e-10)
    assert cr.gradcheck(lambda *t: case.fn(*t, **params), tuple(xs))


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(),
                         nn.Linear(128, 10))


@pytest.mark.parametrize("make_opt", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda p: optim.Adam(p, lr=1e-3),
    lambda p: optim.AdamW(p, lr=1e-3),
    lambda p: optim.RMSprop(p, lr=1e-3),
], ids=["sgd", "adam", "adamw", "rmsprop"])
def test_a_training_step_never_waits_for_the_gpu(cupy: Any, make_opt: Any) -> None:
    import cupyx  # type: ignore[import-not-found]

    cr.manual_seed(0)
    model = _mlp().to("cuda")
    opt = make_opt(model.parameters())
    x = cr.randn(256, 64, device="cuda")
    y = cr.tensor(np.random.default_rng(0).integers(0, 10, 256), device="cuda")
    for _ in range(3):
        with cupyx.allow_synchronize(False):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert np.isfinite(loss.item())


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_training_on_the_gpu_matches_the_cpu(cupy: Any, model: str) -> None:
    config = tr.TrainConfig.for_model(model, epochs=2, batch_size=64)
    on_cpu = tr.train(config, progress=False, log=lambda line: None)
    on_gpu = tr.train(config, progress=False, log=lambda line: None, device="cuda")
    # float32 sums run in another order on a GPU: close, not equal
    np.testing.assert_allclose([h.train_loss for h in on_gpu.history],
                               [h.train_loss for h in on_cpu.history], rtol=2e-3)
    assert abs(on_gpu.test_accuracy - on_cpu.test_accuracy) <= 0.02


def test_a_bad_index_is_caught_at_the_next_read(cupy: Any) -> None:
    x = cr.arange(6.0, device="cuda")
    y = x[cr.tensor([1, 6], device="cuda")].sum()  # CuPy wraps 6 around to 0
    with pytest.raises(IndexError, match="getitem: index 6 is out of range"):
        y.item()


def test_devices_meet_only_by_an_explicit_transfer(cupy: Any, tmp_path: Path) -> None:
    a, b = cr.ones(3, device="cuda"), cr.ones(3)
    with pytest.raises(cr.DeviceError, match="cpu and cuda:0"):
        a + b
    with pytest.raises(TypeError, match=r"\.cpu\(\)"):
        np.asarray(a)
    model = _mlp().to("cuda")
    cr.save(model.state_dict(), tmp_path / "m.npz")
    state = cr.load(tmp_path / "m.npz")
    assert all(t.device == "cpu" for t in state.values())
    again = _mlp().to("cuda")
    again.load_state_dict(state)
    assert all(p.device == "cuda:0" for p in again.parameters())
    x = cr.randn(4, 64, device="cuda")
    model.eval(), again.eval()
    np.testing.assert_array_equal(model(x).cpu().numpy(), again(x).cpu().numpy())
