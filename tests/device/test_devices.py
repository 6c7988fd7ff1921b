"""Devices on the CuPy test double: where tensors are made and moved, what refuses to mix,
models on the device computing what they compute on the cpu, checkpoints, and no host
sync inside a training step."""

from __future__ import annotations

import copy
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend, nn
from chainrule.nn import functional as F

from . import fakecupy

ROOT = Path(__file__).resolve().parents[2]
F64 = cr.float64


def no_syncs(syncs: list[tuple[str, str]]) -> str:
    """The failure message for host syncs that should not have happened: what and where."""
    return "host syncs: " + "; ".join(f"{what} at {where}" for what, where in syncs)


def _here() -> int:
    """The caller's line."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


# ---------------------------------------------------------------- making tensors there
FACTORIES: dict[str, Callable[[Any], cr.Tensor]] = {
    "tensor": lambda d: cr.tensor([[1.0, 2.0], [3.0, 4.0]], device=d),
    "tensor-int": lambda d: cr.tensor([1, 2, 3], device=d),
    "tensor-from-array": lambda d: cr.tensor(np.arange(4.0), dtype=cr.float32, device=d),
    "zeros": lambda d: cr.zeros(2, 3, device=d),
    "ones": lambda d: cr.ones((2, 3), dtype=F64, device=d),
    "full": lambda d: cr.full((2, 2), 3.5, device=d),
    "arange": lambda d: cr.arange(1.0, 4.0, 0.5, device=d),
    "eye": lambda d: cr.eye(3, 2, device=d),
    "rand": lambda d: (cr.manual_seed(1), cr.rand(3, 2, device=d))[1],
    "randn": lambda d: (cr.manual_seed(1), cr.randn(4, dtype=F64, device=d))[1],
    "zeros_like": lambda d: cr.zeros_like(cr.ones(2, 2, device=d)),
    "ones_like": lambda d: cr.ones_like(cr.zeros(3, dtype=F64, device=d), dtype=cr.float32),
}


@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
@pytest.mark.parametrize("name", FACTORIES)
def test_every_factory_makes_its_tensor_on_the_device(gpu: None, name: str,
                                                      device: str) -> None:
    t = FACTORIES[name](device)
    assert t.device == "cuda:0"
    assert isinstance(t.data, fakecupy.ndarray)
    host = FACTORIES[name]("cpu")
    assert host.device == "cpu" and type(host.data) is np.ndarray
    assert t.dtype == host.dtype and t.shape == host.shape
    np.testing.assert_array_equal(t.cpu().numpy(), host.numpy())


def test_factories_default_to_the_cpu_and_keep_a_device_arrays_device(gpu: None) -> None:
    assert cr.zeros(2).device == "cpu" and cr.tensor([1.0]).device == "cpu"
    on = fakecupy.asarray(np.arange(3.0))
    assert cr.tensor(on).device == "cuda:0"  # a CuPy array stays where it is
    assert cr.tensor(on, device="cpu").device == "cpu"
    t = cr.tensor(on, requires_grad=True)
    assert t.requires_grad and t.device == "cuda:0"


@pytest.mark.parametrize("spelling, parsed", [
    ("cpu", ("cpu", 0)), ("cuda", ("cuda", 0)), ("cuda:0", ("cuda", 0)),
    ("cuda:1", ("cuda", 1)), ("cuda:12", ("cuda", 12)),
])
def test_device_spellings(spelling: str, parsed: tuple[str, int]) -> None:
    assert backend.parse_device(spelling, "to") == parsed


@pytest.mark.parametrize("bad", ["gpu", "cuda:", "cuda:x", "cuda:-1", "CUDA", "", "tpu:0"])
def test_an_unknown_device_is_a_value_error_listing_the_spellings(gpu: None, bad: Any) -> None:
    message = rf"unknown device {re.escape(repr(bad))}; use 'cpu', 'cuda' or 'cuda:N'"
    with pytest.raises(ValueError, match="zeros: " + message):
        cr.zeros(2, device=bad)
    with pytest.raises(ValueError, match=message):
        cr.ones(2).to(bad)
    with pytest.raises(ValueError, match=message):
        nn.Linear(2, 2).to(bad)


def test_a_gpu_that_is_not_there_is_a_device_error(gpu: None) -> None:
    # the double has one GPU, as a one-GPU machine
    with pytest.raises(cr.DeviceError, match="no device 'cuda:1': CuPy sees one GPU, cuda:0"):
        cr.zeros(2, device="cuda:1")
    with pytest.raises(cr.DeviceError, match="'cuda:3'"):
        cr.ones(2).to("cuda:3")


# ---------------------------------------------------------------- explicit transfers
def test_to_cuda_and_cpu_round_trip_the_values(gpu: None) -> None:
    x = cr.tensor(np.random.default_rng(0).standard_normal((3, 4)), dtype=F64)
    for on in (x.to("cuda"), x.cuda(), x.to("cuda:0"), x.to(device="cuda")):
        assert on.device == "cuda:0" and on.dtype == F64
        back = on.cpu()
        assert back.device == "cpu"
        np.testing.assert_array_equal(back.numpy(), x.numpy())
        np.testing.assert_array_equal(on.to("cpu").numpy(), x.numpy())
    on = x.cuda()
    assert on.to("cuda") is on and on.cuda() is on and x.cpu() is x  # already there
    both = x.to("cuda", cr.float32)
    assert both.device == "cuda:0" and both.dtype == cr.float32
    assert x.to(on).device == "cuda:0"  # another tensor's device and dtype


def test_host_to_device_is_no_sync_device_to_host_is_one(gpu: None) -> None:
    x = cr.ones(3)
    with fakecupy.counting() as syncs:
        on = x.cuda()
        y = (on * 2).sum()
    assert syncs == [], no_syncs(syncs)
    with fakecupy.counting() as syncs:
        y.cpu()
    assert [what for what, _ in syncs] == ["get"]


@pytest.mark.parametrize("source, target", [("cpu", "cuda"), ("cuda", "cpu")])
def test_a_transfer_is_recorded_and_its_gradient_goes_back(gpu: None, source: str,
                                                           target: str) -> None:
    x = cr.tensor([1.0, -2.0, 3.0], dtype=F64, requires_grad=True, device=source)
    y = x.to(target)
    assert y.device != x.device and y.requires_grad and y.grad_fn is not None
    (y * y * cr.tensor([1.0, 2.0, 3.0], dtype=F64, device=target)).sum().backward()
    assert x.grad is not None and x.grad.device == x.device  # arrives on the source device
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [2.0, -8.0, 18.0])
    assert cr.gradcheck(lambda t: (t.to(target) ** 3).sum(), (x,))


def test_no_implicit_conversion_of_a_gpu_tensor(gpu: None) -> None:
    t = cr.ones(2, device="cuda")
    with pytest.raises(TypeError, match=r"cuda:0.*t\.cpu\(\)"):
        np.asarray(t)
    with pytest.raises(TypeError, match=r"cuda:0.*t\.cpu\(\)\.numpy\(\)"):
        t.numpy()
    with pytest.raises(TypeError, match=r"cuda:0.*\.cpu\(\)"):
        np.array(t)
    np.testing.assert_array_equal(t.cpu().numpy(), [1.0, 1.0])


# ---------------------------------------------------------------- nothing mixes
def _in_place(op: str, on_gpu: bool) -> Callable[[cr.Tensor, cr.Tensor], Any]:
    """``op`` on a copy of one side (with history when it requires grad: recorded), taking
    the other side."""
    def run(cpu: cr.Tensor, gpu: cr.Tensor) -> Any:
        target, other = (gpu, cpu) if on_gpu else (cpu, gpu)
        return getattr(target * 1, op)(other)
    return run


def _setitem(on_gpu: bool, index: Callable[[cr.Tensor], Any],
             value: Callable[[cr.Tensor, cr.Tensor], Any]) -> Callable[..., None]:
    def run(cpu: cr.Tensor, gpu: cr.Tensor) -> None:
        target = (gpu if on_gpu else cpu).detach() * 1
        target[index(gpu)] = value(cpu, gpu)
    return run


MIXED: dict[str, Callable[[cr.Tensor, cr.Tensor], Any]] = {
    "add": lambda cpu, gpu: gpu + cpu,
    "radd": lambda cpu, gpu: cpu + gpu,
    "mul": lambda cpu, gpu: gpu * cpu,
    "sub": lambda cpu, gpu: cpu - gpu,
    "truediv": lambda cpu, gpu: gpu / cpu,
    "pow": lambda cpu, gpu: gpu ** cpu,
    "maximum": lambda cpu, gpu: cr.maximum(gpu, cpu),
    "matmul": lambda cpu, gpu: gpu @ cpu,
    "rmatmul": lambda cpu, gpu: cpu @ gpu,
    "numpy-constant": lambda cpu, gpu: gpu + np.ones(3),
    "concatenate": lambda cpu, gpu: cr.concatenate([gpu, cpu]),
    "stack": lambda cpu, gpu: cr.stack([cpu, gpu]),
    "where-condition": lambda cpu, gpu: cr.where(cpu > 0, gpu, gpu),
    "where-value": lambda cpu, gpu: cr.where(gpu > 0, gpu, cpu),
    "iadd": _in_place("__iadd__", on_gpu=True),
    "iadd-on-cpu": _in_place("__iadd__", on_gpu=False),
    "mul_": _in_place("mul_", on_gpu=True),
    "copy_": _in_place("copy_", on_gpu=False),
    "setitem-value": _setitem(True, lambda g: slice(0, 2), lambda cpu, gpu: cpu[:2]),
    "setitem-value-on-cpu": _setitem(False, lambda g: 0, lambda cpu, gpu: gpu[0]),
    "setitem-gpu-index-on-cpu": _setitem(
        False, lambda g: cr.tensor([0, 1], device="cuda"), lambda cpu, gpu: 0.0),
    "getitem-gpu-index-on-cpu": lambda cpu, gpu: cpu[cr.tensor([0, 1], device="cuda")],
    "cross_entropy-gpu-target": lambda cpu, gpu: F.cross_entropy(
        cr.stack([cpu, cpu]), cr.tensor([0, 2], device="cuda")),
    "mse_loss": lambda cpu, gpu: F.mse_loss(gpu, cpu),
    "linear": lambda cpu, gpu: nn.Linear(3, 2)(gpu),
}


@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain", "recorded"])
@pytest.mark.parametrize("case", MIXED)
def test_ops_mixing_devices_raise_naming_both_and_the_fix(gpu: None, case: str,
                                                          requires_grad: bool) -> None:
    cpu = cr.tensor([1.0, 2.0, 3.0], requires_grad=requires_grad)
    on = cr.tensor([1.0, 2.0, 3.0], requires_grad=requires_grad, device="cuda")
    with pytest.raises(cr.DeviceError) as info:
        MIXED[case](cpu, on)
    message = str(info.value)
    assert "cpu" in message and "cuda:0" in message, message
    assert re.search(r"\.to\('(cpu|cuda:0)'\)|\.cpu\(\)", message), message


def test_backward_with_a_gradient_on_another_device(gpu: None) -> None:
    x = cr.ones(2, requires_grad=True, device="cuda")
    y = x * 2
    with pytest.raises(cr.DeviceError, match=r"gradient is on cpu but the output on cuda:0"):
        y.backward(cr.ones(2))
    y.backward(cr.ones(2, device="cuda"))
    assert x.grad is not None and x.grad.device == "cuda:0"


# ---------------------------------------------------------------- without CuPy
@pytest.fixture
def no_cupy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without CuPy: nothing imported yet, and `import cupy` fails."""
    monkeypatch.setattr(backend, "_CUDA", [])
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setitem(sys.modules, "cupyx", None)


@pytest.mark.parametrize("ask", [
    lambda: cr.zeros(2, device="cuda"),
    lambda: cr.tensor([1.0], device="cuda:0"),
    lambda: cr.randn(2, device="cuda"),
    lambda: cr.ones(2).cuda(),
    lambda: cr.ones(2).to("cuda"),
    lambda: nn.Linear(2, 2).to("cuda"),
])
def test_asking_for_cuda_without_cupy_says_what_to_install(
        no_cupy: None, ask: Callable[[], Any]) -> None:
    with pytest.raises(cr.DeviceError, match=r"needs CuPy: pip install 'chainrule\[cuda13\]'"):
        ask()
    assert cr.zeros(2).device == "cpu"  # the cpu goes on as before


def test_the_extras_the_message_names_exist_and_install_cupy(no_cupy: None) -> None:
    with pytest.raises(cr.DeviceError) as info:
        cr.zeros(1, device="cuda")
    named = re.findall(r"chainrule\[(\w+)\]", str(info.value))
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11 reads pyproject.toml")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert named and set(named) <= set(extras), (named, sorted(extras))
    for name in named:
        assert any(dep.startswith("cupy-") for dep in extras[name]), extras[name]


def test_cuda_is_not_available_without_cupy(no_cupy: None) -> None:
    assert cr.cuda.is_available() is False
    assert cr.cuda.device_count() == 0


def test_cuda_is_available_on_the_double(gpu: None) -> None:
    assert cr.cuda.is_available() is True
    assert cr.cuda.device_count() == 1


# ---------------------------------------------------------------- random numbers
def test_seeded_randn_on_the_device_is_reproducible_and_matches_the_cpu(gpu: None) -> None:
    def draw(device: str) -> np.ndarray:
        cr.manual_seed(7)
        a = cr.randn(3, 4, dtype=F64, device=device)
        b = cr.rand(5, device=device)
        return np.concatenate([a.cpu().numpy().ravel(), b.cpu().numpy().ravel()])

    first, again, host = draw("cuda"), draw("cuda"), draw("cpu")
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, host)
    cr.manual_seed(8)
    assert not np.array_equal(draw("cuda")[:3], cr.randn(3, dtype=F64).numpy())


def test_dropout_on_the_device_draws_there_reproducibly(gpu: None) -> None:
    def mask() -> np.ndarray:
        cr.manual_seed(3)
        return F.dropout(cr.ones(200, device="cuda"), 0.5, training=True).cpu().numpy()

    fakecupy.CALLED.clear()
    first = mask()
    # only what CuPy's Generator has (no normal, permutation, choice or shuffle)
    assert {n for n in fakecupy.CALLED if n.startswith("cupy.random")} <= {
        "cupy.random.default_rng", "cupy.random.Generator"}
    np.testing.assert_array_equal(first, mask())
    assert set(np.unique(first)) == {0.0, 2.0}


# ---------------------------------------------------------------- models on the device
def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 16),
                         nn.GELU(), nn.LayerNorm(16), nn.Linear(16, 4))


def _cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, stride=2), nn.LeakyReLU(0.1),
                         nn.AvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))


def _batch(model: str, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    shape = (n, 6) if model == "mlp" else (n, 2, 8, 8)
    return rng.standard_normal(shape), rng.integers(0, 4 if model == "mlp" else 3, n)


def _pair(model: str) -> tuple[nn.Module, nn.Module]:
    cr.manual_seed(0)
    on_cpu = (_mlp() if model == "mlp" else _cnn()).to(F64)
    return on_cpu, copy.deepcopy(on_cpu).to("cuda")


def test_module_to_moves_parameters_buffers_and_gradients_in_place(gpu: None) -> None:
    model = _cnn().to(F64)
    x, y = _batch("cnn")
    F.cross_entropy(model(cr.tensor(x)), cr.tensor(y)).backward()
    params = list(model.parameters())
    grads = [p.grad.numpy().copy() for p in params]
    buffers = dict(model.named_buffers())
    stats = {k: b.numpy().copy() for k, b in buffers.items()}
    assert {"1.running_mean", "1.running_var", "1.num_batches_tracked"} <= set(buffers)

    assert model.to("cuda") is model
    assert list(model.parameters()) == params and all(
        a is b for a, b in zip(model.parameters(), params, strict=True))  # the same objects
    for p, g in zip(params, grads, strict=True):
        assert p.device == "cuda:0" and p.grad is not None and p.grad.device == "cuda:0"
        np.testing.assert_array_equal(p.grad.cpu().numpy(), g)
    for name, b in model.named_buffers():
        assert b is buffers[name] and b.device == "cuda:0", name
        np.testing.assert_array_equal(b.cpu().numpy(), stats[name])
    model.to("cpu")
    assert all(p.device == "cpu" and p.grad.device == "cpu" for p in params)
    assert all(b.device == "cpu" for b in model.buffers())


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_forward_and_backward_on_the_device_equal_the_cpu(gpu: None, model: str) -> None:
    on_cpu, on_gpu = _pair(model)
    x, y = _batch(model)
    losses = []
    for m, device in ((on_cpu, "cpu"), (on_gpu, "cuda")):
        out = m(cr.tensor(x, device=device))
        assert out.device == backend.device_of(m[0].weight.data)
        loss = F.cross_entropy(out, cr.tensor(y, device=device))
        loss.backward()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(losses[1], rel=1e-12, abs=0)
    for (name, p), q in zip(on_cpu.named_parameters(), on_gpu.parameters(), strict=True):
        assert q.grad is not None and q.grad.device == "cuda:0", name
        np.testing.assert_allclose(q.grad.cpu().numpy(), p.grad.numpy(), rtol=1e-10,
                                   atol=1e-13, err_msg=name)
    for (name, a), b in zip(on_cpu.named_buffers(), on_gpu.buffers(), strict=True):
        assert b.device == "cuda:0"
        np.testing.assert_allclose(b.cpu().numpy(), a.numpy(), rtol=1e-12, err_msg=name)
    on_cpu.eval(), on_gpu.eval()
    np.testing.assert_allclose(on_gpu(cr.tensor(x, device="cuda")).cpu().numpy(),
                               on_cpu(cr.tensor(x)).numpy(), rtol=1e-10, atol=1e-13)


def test_an_optimizer_made_before_module_to_keeps_working(gpu: None) -> None:
    on_cpu, moved = _pair("mlp")
    moved.to("cpu")
    opts = [cr.optim.Adam(m.parameters(), lr=0.05) for m in (on_cpu, moved)]
    x, y = _batch("mlp")
    for step in range(4):
        if step == 2:  # after two steps on the cpu: its moments exist, and follow
            moved.to("cuda")
        for m, opt in zip((on_cpu, moved), opts, strict=True):
            device = backend.device_of(m[0].weight.data)
            opt.zero_grad()
            F.cross_entropy(m(cr.tensor(x, device=device)), cr.tensor(y, device=device)
                            ).backward()
            opt.step()
    for p in moved.parameters():
        for value in opts[1].state[id(p)].values():
            if backend.is_array(value):
                assert backend.device_of(value) == "cuda:0"
    for p, q in zip(on_cpu.parameters(), moved.parameters(), strict=True):
        np.testing.assert_allclose(q.cpu().numpy(), p.numpy(), rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_save_writes_host_arrays_and_load_gives_cpu_tensors(gpu: None, tmp_path: Path,
                                                            suffix: str) -> None:
    if suffix == ".safetensors":
        pytest.importorskip("safetensors", reason="pip install safetensors")
    on_cpu, on_gpu = _pair("cnn")
    path = tmp_path / f"model{suffix}"
    cr.save(on_gpu.state_dict(), path)
    if suffix == ".npz":
        with np.load(path) as raw:  # plain NumPy can read it: host arrays
            stored = [k for k in raw.files if k.endswith("0.weight")]
            assert stored and type(raw[stored[0]]) is np.ndarray
    state = cr.load(path)
    assert set(state) == set(on_cpu.state_dict())
    for name, t in state.items():
        assert t.device == "cpu" and type(t.data) is np.ndarray, name
        np.testing.assert_array_equal(t.numpy(), on_cpu.state_dict()[name].numpy())


def test_a_checkpoint_with_optimizer_state_from_the_device(gpu: None, tmp_path: Path) -> None:
    _, model = _pair("mlp")
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    x, y = _batch("mlp")
    F.cross_entropy(model(cr.tensor(x, device="cuda")), cr.tensor(y, device="cuda")).backward()
    opt.step()
    cr.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 3},
            tmp_path / "ckpt.npz")
    ckpt = cr.load(tmp_path / "ckpt.npz")
    assert ckpt["epoch"] == 3
    assert all(t.device == "cpu" for t in ckpt["model"].values())
    moments = [v for entry in ckpt["opt"]["state"].values() for v in entry.values()
               if isinstance(v, cr.Tensor)]
    assert moments and all(v.device == "cpu" for v in moments)
    fresh = _mlp().to(F64).to("cuda")
    fresh_opt = cr.optim.Adam(fresh.parameters(), lr=0.01)
    fresh.load_state_dict(ckpt["model"])
    fresh_opt.load_state_dict(ckpt["opt"])
    for p in fresh.parameters():
        assert all(backend.device_of(v) == "cuda:0" for v in fresh_opt.state[id(p)].values()
                   if backend.is_array(v))


def test_load_state_dict_of_a_cpu_state_puts_it_on_the_models_device(gpu: None) -> None:
    on_cpu, _ = _pair("cnn")
    target = _cnn().to(F64).to("cuda")
    params = list(target.parameters())
    result = target.load_state_dict(on_cpu.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    assert all(a is b for a, b in zip(target.parameters(), params, strict=True))
    for (name, t), (_, src) in zip(target.state_dict().items(), on_cpu.state_dict().items(),
                                   strict=True):
        assert t.device == "cuda:0", name
        np.testing.assert_array_equal(t.cpu().numpy(), src.numpy())
    # and the other way: a device state into a cpu model
    back = _cnn().to(F64)
    back.load_state_dict(target.state_dict())
    assert all(p.device == "cpu" for p in back.parameters())


# ---------------------------------------------------------------- host syncs
@pytest.mark.parametrize("model", ["mlp", "cnn"])
@pytest.mark.parametrize("make_opt", [
    lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: cr.optim.Adam(p, lr=1e-3),
], ids=["sgd", "adam"])
def test_a_training_step_makes_no_host_sync(gpu: None, model: str,
                                            make_opt: Callable[[Any], Any]) -> None:
    _, net = _pair(model)
    net.to(cr.float32)
    opt = make_opt(net.parameters())
    x, y = _batch(model, 16)
    xs, ys = cr.tensor(x, dtype=cr.float32, device="cuda"), cr.tensor(y, device="cuda")
    for _ in range(3):
        with fakecupy.counting() as syncs:
            opt.zero_grad()
            loss = F.cross_entropy(net(xs), ys)
            loss.backward()
            opt.step()
        assert syncs == [], no_syncs(syncs)
    with fakecupy.counting() as syncs:  # reporting the loss is one read, and says where
        value = loss.item()
    assert np.isfinite(value)
    assert [what for what, _ in syncs] == ["get", "item"]  # queued index checks, the value
    assert all(where.startswith(("engine/", "backend.py")) for _, where in syncs), syncs


def test_where_a_sync_happens_the_failure_says_where(gpu: None) -> None:
    model = _mlp().to(F64).to("cuda")
    x = cr.ones(4, 6, dtype=F64, device="cuda")
    with fakecupy.counting() as syncs:
        loss = model(x).sum()
        if float(loss) > 0:  # a hidden sync: a Python branch on a device value
            loss = loss * 1
    [(what, where)] = syncs
    assert what == "item" and where.startswith("engine/base.py:")
    with pytest.raises(AssertionError, match=r"item at engine/base\.py:\d+ \(item\)"):
        assert syncs == [], no_syncs(syncs)
    with fakecupy.counting() as syncs:
        line = _here() + 1
        bool(x.data[0, 0] > 0)
    assert syncs == [("bool", f"test_devices.py:{line}")]


def test_printing_a_gpu_tensor_is_a_sync(gpu: None) -> None:
    t = cr.ones(2, device="cuda")
    with fakecupy.counting() as syncs:
        text = repr(t)
    assert "device='cuda:0'" in text
    assert [what for what, _ in syncs] == ["get"] and syncs[0][1].startswith("backend.py:")


def test_a_gpu_number_is_a_device_as_in_pytorch(gpu: None) -> None:
    assert cr.zeros(2, device=0).device == "cuda:0"
    assert cr.ones(2).to(0).device == "cuda:0"
    with pytest.raises(ValueError, match="unknown device -1"):
        cr.zeros(2, device=-1)


def test_a_raw_gpu_array_is_saved_from_a_host_copy(gpu: None, tmp_path: Path) -> None:
    cr.save({"a": fakecupy.asarray(np.arange(3.0))}, tmp_path / "raw.npz")
    loaded = cr.load(tmp_path / "raw.npz")
    np.testing.assert_array_equal(np.asarray(loaded["a"]), np.arange(3.0))
