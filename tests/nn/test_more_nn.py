"""Identity, LeakyReLU, BatchNorm2d, AvgPool2d, forward hooks, Module.to, gradient
clipping, and layers refusing an input of another floating dtype."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F


def _rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


# ------------------------------------------------------------------ layers, without torch
def test_leaky_relu_and_identity() -> None:
    x = cr.tensor(np.array([-2.0, -0.0, 0.0, 3.0]), requires_grad=True)
    y = nn.LeakyReLU(0.2)(x)
    np.testing.assert_array_equal(y.data, [-0.4, 0.0, 0.0, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.2, 0.2, 0.2, 1.0])  # slope at 0, as PyTorch
    ident = nn.Identity(54, unused="ignored")
    assert ident(x) is x and list(ident.parameters()) == []


@pytest.mark.parametrize("kw", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=1, padding=1, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), divisor_override=5),
])
def test_avg_pool2d_gradchecks_and_averages(kw: dict[str, Any]) -> None:
    x = cr.tensor(_rand(2, 3, 6, 7), requires_grad=True)
    assert cr.gradcheck(lambda t: F.avg_pool2d(t, **kw), (x,))
    ones = F.avg_pool2d(cr.tensor(np.ones((1, 1, 6, 7))), **kw).data
    if kw.get("divisor_override") is None and kw.get("padding", 0) == 0:
        np.testing.assert_allclose(ones, 1.0)  # the mean of ones is one
    if kw.get("count_include_pad") is False:
        np.testing.assert_allclose(ones, 1.0)  # padding is not counted


def test_avg_pool2d_bad_arguments() -> None:
    with pytest.raises(ValueError, match="ceil_mode=True is not supported"):
        nn.AvgPool2d(2, ceil_mode=True)
    with pytest.raises(ValueError, match="padding .* between 0 and half the kernel size"):
        F.avg_pool2d(cr.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(cr.ShapeError, match=r"avg_pool2d: expected input of shape \(N, C, H, W\)"):
        nn.AvgPool2d(2)(cr.randn(4, 4))


def test_batchnorm2d_normalises_each_channel_and_checks_shapes() -> None:
    bn = nn.BatchNorm2d(3, dtype=np.float64)
    x = cr.tensor(_rand(4, 3, 5, 5) * 3 + 2, requires_grad=True)
    y = bn(x).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-4)
    assert int(bn.num_batches_tracked.data) == 1
    assert bn.running_mean.dtype == np.float64 and nn.BatchNorm2d(2).running_var.dtype == np.float32
    assert cr.gradcheck(lambda t: nn.BatchNorm2d(3, dtype=np.float64)(t), (x,))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input of shape "
                                         r"\(N, 3, H, W\), got \(4, 3, 5\)"):
        bn(cr.randn(4, 3, 5, dtype=np.float64))


# ------------------------------------------------------------------ another floating dtype
@pytest.mark.parametrize(("layer", "shape"), [
    (lambda: nn.Linear(4, 2), (3, 4)),
    (lambda: nn.Conv2d(1, 2, 3), (2, 1, 5, 5)),
    (lambda: nn.BatchNorm1d(4), (3, 4)),
    (lambda: nn.BatchNorm2d(1), (2, 1, 5, 5)),
    (lambda: nn.LayerNorm(4), (3, 4)),
])
def test_a_layer_refuses_an_input_of_another_floating_dtype(layer: Any, shape: tuple) -> None:
    module = layer()  # float32 parameters, the default
    name = type(module).__name__
    with pytest.raises(TypeError, match=rf"{name}: the input is float64 but the layer's \w+ is "
                                        r"float32; convert the input with x\.float\(\) / "
                                        r"x\.to\(cr\.float32\), or the model with model\.double"):
        module(cr.tensor(_rand(*shape)))
    with pytest.raises(TypeError, match=r"x\.astype\(numpy\.float32\)"):
        module(_rand(*shape))  # a NumPy array: float64 unless said otherwise
    out = module(cr.tensor(_rand(*shape).astype(np.float32)))
    assert out.dtype == np.float32
    module.double()
    assert module(cr.tensor(_rand(*shape))).dtype == np.float64
    with pytest.raises(TypeError, match=r"float32 but the layer's \w+ is float64; .*"
                                        r"x\.double\(\).*model\.float\(\)"):
        module(cr.tensor(_rand(*shape).astype(np.float32)))


def test_a_whole_model_refuses_and_the_functional_forms_too() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with pytest.raises(TypeError, match="Linear: the input is float64"):
        model(np.ones((2, 3)))
    with pytest.raises(TypeError, match="linear: the input is float32 but the layer's weight is "
                                        "float64"):
        F.linear(cr.ones(2, 3), cr.tensor(np.ones((4, 3))))
    assert model([[1.0, 2.0, 3.0]]).dtype == np.float32  # lists take the default dtype
    assert nn.Embedding(5, 2)(np.array([1, 4])).dtype == np.float32  # indices are ints


# ------------------------------------------------------------------ Module.to
def test_module_to_dtype_and_device() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = model[0].weight
    model(cr.randn(4, 2)).sum().backward()
    assert model.to("cpu") is model and weight.dtype == np.float32
    model.to("cpu", cr.float64)
    assert model[0].weight is weight and weight.dtype == np.float64  # the same Parameter
    assert weight.grad.dtype == np.float64
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    model.to(dtype=np.float32, device="cpu")
    assert weight.dtype == np.float32
    if not cr.cuda.is_available():  # no GPU here: asking for one says what to install
        with pytest.raises(cr.DeviceError, match="needs CuPy: pip install"):
            model.to("cuda")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        model.to("gpu")
    with pytest.raises(TypeError, match="expected a floating dtype, got int64"):
        model.to(np.int64)
    with pytest.raises(TypeError, match="neither a device nor a dtype"):
        model.to(object())


# ------------------------------------------------------------------ hooks
def test_forward_hooks_see_inputs_and_outputs_and_can_be_removed() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    calls: list[tuple[str, tuple[int, ...]]] = []
    handle = model[0].register_forward_hook(
        lambda module, args, out: calls.append((type(module).__name__, out.shape)))
    pre = model[1].register_forward_pre_hook(lambda module, args: (args[0] * 0 - 1,))
    out = model(cr.randn(5, 2))
    assert calls == [("Linear", (5, 3))]
    np.testing.assert_array_equal(out.data, 0.0)  # the pre-hook changed ReLU's input to -1
    handle.remove()
    pre.remove()
    out = model(cr.randn(5, 2))
    assert len(calls) == 1 and out.data.max() > 0
    doubled = model.register_forward_hook(lambda m, a, o: o * 2)
    x = cr.randn(5, 2)
    np.testing.assert_array_equal(model(x).data, 2 * model[1](model[0](x)).data)
    doubled.remove()
    with pytest.raises(TypeError, match="expected a function"):
        model.register_forward_hook(3)  # type: ignore[arg-type]


# ------------------------------------------------------------------ gradient clipping
def _with_grads(*grads: np.ndarray) -> list[cr.Tensor]:
    params = [cr.tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = cr.tensor(g.copy())
    return params


def test_clip_grad_norm_scales_all_gradients_together() -> None:
    params = _with_grads(np.array([3.0, 0.0]), np.array([[0.0], [4.0]]))
    total = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, cr.Tensor) and float(total) == pytest.approx(5.0)
    joint = np.sqrt(sum((p.grad.data ** 2).sum() for p in params))
    assert joint == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(params[0].grad.data, [0.6, 0.0], rtol=1e-5)
    small = _with_grads(np.array([0.1, 0.2]))
    nn.utils.clip_grad_norm_(small, max_norm=1.0)
    np.testing.assert_allclose(small[0].grad.data, [0.1, 0.2], rtol=1e-5)  # under the limit
    inf = _with_grads(np.array([-3.0, 1.0]), np.array([2.0]))
    assert float(nn.utils.clip_grad_norm_(inf, 1.5, norm_type=float("inf"))) == 3.0
    np.testing.assert_allclose(inf[0].grad.data, [-1.5, 0.5], rtol=1e-5)
    assert float(nn.utils.clip_grad_norm_([cr.zeros(2, requires_grad=True)], 1.0)) == 0.0


def test_clip_grad_value_and_bad_arguments() -> None:
    params = _with_grads(np.array([-3.0, 0.5, 2.0]))
    nn.utils.clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(params[0].grad.data, [-1.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="max_norm must be >= 0"):
        nn.utils.clip_grad_norm_(params, -1.0)
    with pytest.raises(TypeError, match="parameter 0 is a ndarray, not a Tensor"):
        nn.utils.clip_grad_norm_([np.ones(2)], 1.0)  # type: ignore[list-item]
    nan = _with_grads(np.array([np.nan, 1.0]))
    with pytest.raises(FloatingPointError, match="total norm .* is nan"):
        nn.utils.clip_grad_norm_(nan, 1.0, error_if_nonfinite=True)


# ------------------------------------------------------------------ against PyTorch
def _torch() -> Any:
    return pytest.importorskip("torch")


def _compare(ours: nn.Module, theirs: Any, x: np.ndarray) -> None:
    torch = _torch()
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.data))
                            for k, v in ours.state_dict().items()})
    xt, xc = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    yt, yc = theirs(xt), ours(xc)
    np.testing.assert_allclose(yc.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = _rand(*yt.shape, seed=5)
    (yt * torch.from_numpy(g)).sum().backward()
    (yc * g).sum().backward()
    np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, their_params[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-11, err_msg=name)


@pytest.mark.parametrize(("make", "shape"), [
    (lambda n: n.LeakyReLU(), (3, 4)),
    (lambda n: n.LeakyReLU(0.3), (2, 3, 4)),
    (lambda n: n.Identity(), (3, 4)),
    (lambda n: n.AvgPool2d(2), (2, 3, 6, 7)),
    (lambda n: n.AvgPool2d(3, stride=2, padding=1), (2, 2, 7, 6)),
    (lambda n: n.AvgPool2d(3, stride=1, padding=1, count_include_pad=False), (1, 2, 5, 5)),
    (lambda n: n.AvgPool2d((2, 3), stride=(1, 2), divisor_override=4), (1, 2, 5, 7)),
])
def test_stateless_layers_match_pytorch(make: Any, shape: tuple[int, ...]) -> None:
    torch = _torch()
    _compare(make(nn), make(torch.nn).double(), _rand(*shape))


def test_batchnorm2d_matches_pytorch_in_training_and_eval() -> None:
    torch = _torch()
    ours, theirs = nn.BatchNorm2d(3, dtype=np.float64), torch.nn.BatchNorm2d(3).double()
    ours.weight.data[...] = [0.5, 1.0, 2.0]
    for step in range(3):
        _compare(ours, theirs, _rand(4, 3, 5, 6, seed=step) * 2 + 1)
        for name, buf in ours.named_buffers():
            np.testing.assert_allclose(buf.data, getattr(theirs, name).numpy(), rtol=1e-12,
                                       err_msg=name)
        ours.zero_grad()
        theirs.zero_grad()
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, _rand(2, 3, 4, 4, seed=9))
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_clip_grad_norm_matches_pytorch() -> None:
    torch = _torch()
    grads = [_rand(3, 4, seed=1), _rand(5, seed=2) * 3]
    for norm_type in (2.0, 1.0, float("inf")):
        ours = _with_grads(*grads)
        theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p, g in zip(theirs, grads, strict=True):
            p.grad = torch.from_numpy(g.copy())
        got = nn.utils.clip_grad_norm_(ours, 0.7, norm_type=norm_type)
        want = torch.nn.utils.clip_grad_norm_(theirs, 0.7, norm_type=norm_type)
        assert float(got) == pytest.approx(float(want), rel=1e-12)
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-12)
