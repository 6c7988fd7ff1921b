"""Layers and losses against PyTorch: weights copied over, float64, tight tolerances.

Skipped when torch is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import Tensor, nn

torch = pytest.importorskip("torch")
tnn = torch.nn

RTOL, ATOL = 1e-10, 1e-12


def _copy_weights(ours: nn.Module, theirs: Any) -> None:
    state = {k: torch.from_numpy(np.array(v.data)) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)


def _compare(
    ours: nn.Module,
    theirs: Any,
    x: np.ndarray,
    *,
    x_grad: bool = True,
    seed: int = 0,
) -> None:
    """Same output, same input gradient, same parameter gradients."""
    _copy_weights(ours, theirs)
    xt = torch.tensor(x, requires_grad=x_grad)
    xc = cr.tensor(x, requires_grad=x_grad)
    yt = theirs(xt)
    yc = ours(xc)
    np.testing.assert_allclose(yc.data, yt.detach().numpy(), rtol=RTOL, atol=ATOL)
    g = np.random.default_rng(seed).normal(size=yt.shape)
    (yt * torch.from_numpy(g)).sum().backward()
    (yc * g).sum().backward()
    if x_grad:
        np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.data, their_params[name].grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name
        )


def _rand(*shape: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


LAYERS: list[tuple[str, Callable[[], nn.Module], Callable[[], Any], tuple[int, ...]]] = [
    ("linear", lambda: nn.Linear(5, 3, dtype=np.float64), lambda: tnn.Linear(5, 3), (4, 5)),
    (
        "linear-nobias-3d",
        lambda: nn.Linear(5, 3, bias=False, dtype=np.float64),
        lambda: tnn.Linear(5, 3, bias=False),
        (2, 4, 5),
    ),
    (
        "conv",
        lambda: nn.Conv2d(2, 3, 3, dtype=np.float64),
        lambda: tnn.Conv2d(2, 3, 3),
        (2, 2, 6, 7),
    ),
    (
        "conv-stride-pad",
        lambda: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 2), dtype=np.float64),
        lambda: tnn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 2)),
        (2, 3, 7, 5),
    ),
    ("maxpool", lambda: nn.MaxPool2d(2), lambda: tnn.MaxPool2d(2), (2, 3, 6, 6)),
    ("maxpool-odd-size", lambda: nn.MaxPool2d(2), lambda: tnn.MaxPool2d(2), (2, 2, 7, 5)),
    (
        "maxpool-tiles-pad",
        lambda: nn.MaxPool2d(2, padding=1),
        lambda: tnn.MaxPool2d(2, padding=1),
        (1, 2, 5, 6),
    ),
    (
        "maxpool-stride-pad",
        lambda: nn.MaxPool2d(3, stride=2, padding=1),
        lambda: tnn.MaxPool2d(3, stride=2, padding=1),
        (2, 2, 7, 6),
    ),
    (
        "layernorm",
        lambda: nn.LayerNorm(6, dtype=np.float64),
        lambda: tnn.LayerNorm(6),
        (3, 4, 6),
    ),
    (
        "layernorm-2d",
        lambda: nn.LayerNorm((4, 6), dtype=np.float64),
        lambda: tnn.LayerNorm((4, 6)),
        (3, 4, 6),
    ),
    ("relu", nn.ReLU, tnn.ReLU, (4, 5)),
    ("tanh", nn.Tanh, tnn.Tanh, (4, 5)),
    ("sigmoid", nn.Sigmoid, tnn.Sigmoid, (4, 5)),
    ("gelu", nn.GELU, tnn.GELU, (4, 5)),
    ("gelu-tanh", lambda: nn.GELU("tanh"), lambda: tnn.GELU("tanh"), (4, 5)),
    ("softmax", lambda: nn.Softmax(dim=1), lambda: tnn.Softmax(dim=1), (3, 4, 2)),
    ("logsoftmax", lambda: nn.LogSoftmax(dim=-1), lambda: tnn.LogSoftmax(dim=-1), (3, 5)),
    ("flatten", nn.Flatten, tnn.Flatten, (2, 3, 4, 2)),
    (
        "mlp",
        lambda: nn.Sequential(
            nn.Linear(4, 8, dtype=np.float64), nn.GELU(), nn.Linear(8, 2, dtype=np.float64)
        ),
        lambda: tnn.Sequential(tnn.Linear(4, 8), tnn.GELU(), tnn.Linear(8, 2)),
        (5, 4),
    ),
    (
        "cnn",
        lambda: nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1, dtype=np.float64),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(4 * 4 * 4, 3, dtype=np.float64),
        ),
        lambda: tnn.Sequential(
            tnn.Conv2d(1, 4, 3, padding=1),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
            tnn.Flatten(),
            tnn.Linear(4 * 4 * 4, 3),
        ),
        (3, 1, 8, 8),
    ),
]


@pytest.mark.parametrize(
    ("ours", "theirs", "shape"), [c[1:] for c in LAYERS], ids=[c[0] for c in LAYERS]
)
def test_layer_matches_pytorch(
    ours: Callable[[], nn.Module], theirs: Callable[[], Any], shape: tuple[int, ...]
) -> None:
    cr.manual_seed(0)
    _compare(ours(), theirs().double(), _rand(*shape))


def test_batchnorm_training_eval_and_running_stats() -> None:
    cr.manual_seed(0)
    ours = nn.BatchNorm1d(4, dtype=np.float64)
    theirs = tnn.BatchNorm1d(4).double()
    for shape in [(6, 4), (3, 4, 5)]:
        for step in range(3):
            _compare(ours, theirs, _rand(*shape, seed=step) * 2 + 1)
            for name, buf in ours.named_buffers():
                np.testing.assert_allclose(
                    buf.data, getattr(theirs, name).numpy(), rtol=RTOL, atol=ATOL, err_msg=name
                )
            ours.zero_grad()
            theirs.zero_grad()
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, _rand(5, 4, seed=9))


def test_batchnorm_cumulative_average_and_no_tracking() -> None:
    ours = nn.BatchNorm1d(3, momentum=None, dtype=np.float64)
    theirs = tnn.BatchNorm1d(3, momentum=None).double()
    for step in range(3):
        _compare(ours, theirs, _rand(5, 3, seed=step))
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), rtol=RTOL)
    ours = nn.BatchNorm1d(3, track_running_stats=False, affine=False, dtype=np.float64)
    theirs = tnn.BatchNorm1d(3, track_running_stats=False, affine=False).double()
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, _rand(5, 3))


def test_embedding_matches_pytorch() -> None:
    ours = nn.Embedding(7, 3, dtype=np.float64)
    theirs = tnn.Embedding(7, 3).double()
    _copy_weights(ours, theirs)
    idx = np.array([[0, 3, 3], [6, 1, 0]])
    yc, yt = ours(idx), theirs(torch.from_numpy(idx))
    np.testing.assert_array_equal(yc.data, yt.detach().numpy())
    g = _rand(2, 3, 3)
    (yc * g).sum().backward()
    (yt * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=RTOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_pytorch(reduction: str) -> None:
    F = nn.functional
    tF = torch.nn.functional
    logits = _rand(6, 4) * 3
    classes = np.array([0, 3, 1, 1, 2, 3])
    probs = np.random.default_rng(2).dirichlet(np.ones(4), size=6)
    values = _rand(6, 4, seed=3)
    bits = (np.random.default_rng(4).random((6, 4)) > 0.5).astype(np.float64)
    logits_3d = _rand(2, 4, 5, seed=5)
    classes_3d = np.random.default_rng(6).integers(0, 4, size=(2, 5))
    cases: list[tuple[Callable[..., Any], Callable[..., Any], np.ndarray, Any]] = [
        (F.mse_loss, tF.mse_loss, logits, values),
        (F.cross_entropy, tF.cross_entropy, logits, classes),
        (F.cross_entropy, tF.cross_entropy, logits, probs),
        (F.cross_entropy, tF.cross_entropy, logits_3d, classes_3d),
        (F.nll_loss, tF.nll_loss, np.log(probs), classes),
        (F.binary_cross_entropy_with_logits, tF.binary_cross_entropy_with_logits, logits, bits),
    ]
    for ours, theirs, x, target in cases:
        xc = cr.tensor(x, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        lc = ours(xc, target, reduction=reduction)
        lt = theirs(xt, torch.from_numpy(target), reduction=reduction)
        np.testing.assert_allclose(lc.data, lt.detach().numpy(), rtol=RTOL, atol=ATOL)
        g = np.ones(lt.shape) if reduction != "none" else _rand(*lt.shape, seed=7)
        (lc * g).sum().backward()
        (lt * torch.from_numpy(g)).sum().backward()
        np.testing.assert_allclose(
            xc.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=ours.__name__
        )


def test_bce_pos_weight_and_extreme_logits() -> None:
    x = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    w = np.array(3.0)
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    lc = nn.BCEWithLogitsLoss(pos_weight=w)(xc, y)
    lt = tnn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(w))(xt, torch.from_numpy(y))
    lc.backward()
    lt.backward()
    assert np.isfinite(lc.data).all()
    np.testing.assert_allclose(lc.data, lt.detach().numpy(), rtol=RTOL)
    np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), rtol=RTOL, atol=ATOL)


def test_cross_entropy_with_huge_logits_is_finite() -> None:
    x = np.array([[1000.0, -1000.0, 0.0], [0.0, 0.0, 1e4]])
    t = np.array([1, 2])
    xc = cr.tensor(x, requires_grad=True)
    lc = nn.CrossEntropyLoss()(xc, t)
    lt = tnn.CrossEntropyLoss()(torch.tensor(x), torch.from_numpy(t))
    lc.backward()
    np.testing.assert_allclose(lc.data, lt.numpy(), rtol=RTOL)
    assert np.isfinite(xc.grad.data).all()


def test_default_init_has_pytorch_bounds() -> None:
    cr.manual_seed(0)
    lin = nn.Linear(100, 50)
    conv = nn.Conv2d(4, 8, 3)
    assert lin.weight.dtype == np.float32
    assert np.abs(lin.weight.data).max() <= 0.1 and np.abs(lin.weight.data).max() > 0.09
    assert np.abs(conv.weight.data).max() <= 1 / 6 and np.abs(conv.bias.data).max() <= 1 / 6
    # the same distribution as torch's: compare the spread of a large layer
    big, tbig = nn.Linear(400, 300), tnn.Linear(400, 300)
    assert np.std(big.weight.data) == pytest.approx(tbig.weight.detach().std().item(), rel=0.02)


def test_weights_copy_from_pytorch_into_chainrule() -> None:
    theirs = tnn.Sequential(tnn.Linear(3, 4), tnn.BatchNorm1d(4), tnn.Linear(4, 2)).double()
    ours = nn.Sequential(
        nn.Linear(3, 4, dtype=np.float64),
        nn.BatchNorm1d(4, dtype=np.float64),
        nn.Linear(4, 2, dtype=np.float64),
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours.eval()
    theirs.eval()
    x = _rand(5, 3)
    np.testing.assert_allclose(
        ours(Tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=RTOL
    )
