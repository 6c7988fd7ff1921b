"""Gradients of every layer and loss against central differences (no torch needed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import nn
from chainrule.gradcheck import gradcheck, gradgradcheck
from chainrule.nn import functional as F

rng = np.random.default_rng(0)


def _r(*shape: int) -> np.ndarray:
    return rng.normal(size=shape)


# (name, function of float64 Tensors, inputs); the last input may be an int target
CASES: list[tuple[str, Callable[..., Any], tuple[Any, ...]]] = [
    ("linear", F.linear, (_r(3, 4), _r(2, 4), _r(2))),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b), (_r(2, 2, 4, 4), _r(3, 2, 2, 2), _r(3))),
    (
        "conv2d-stride-pad",
        lambda x, w: F.conv2d(x, w, None, stride=2, padding=1),
        (_r(1, 2, 5, 4), _r(2, 2, 3, 3)),
    ),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), (_r(2, 2, 4, 4),)),
    ("max_pool2d-pad", lambda x: F.max_pool2d(x, 3, 2, 1), (_r(1, 2, 5, 5),)),
    ("max_pool2d-crop", lambda x: F.max_pool2d(x, 2, padding=1), (_r(1, 1, 4, 5),)),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), (_r(3, 4), _r(4), _r(4))),
    (
        "batch_norm",
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        (_r(5, 3), _r(3), _r(3)),
    ),
    (
        "batch_norm-3d",
        lambda x: F.batch_norm(x, None, None, training=True),
        (_r(3, 2, 4),),
    ),
    ("gelu", F.gelu, (_r(6),)),
    ("gelu-tanh", lambda x: F.gelu(x, "tanh"), (_r(6),)),
    ("softmax", lambda x: F.softmax(x, 0), (_r(3, 2),)),
    ("log_softmax", F.log_softmax, (_r(2, 4),)),
    ("softplus", F.softplus, (np.array([-40.0, -1.0, 0.3, 2.0, 40.0]),)),
    ("embedding", lambda w: F.embedding(np.array([[1, 1], [0, 2]]), w), (_r(3, 2),)),
    ("mse", lambda x, y: F.mse_loss(x, y), (_r(3, 2), _r(3, 2))),
    ("cross_entropy", lambda x: F.cross_entropy(x, np.array([2, 0, 1])), (_r(3, 4),)),
    (
        "cross_entropy-sum-4d",
        lambda x: F.cross_entropy(x, np.array([[[0, 1]], [[2, 2]]]), reduction="sum"),
        (_r(2, 3, 1, 2),),
    ),
    ("nll", lambda x: F.nll_loss(x, np.array([1, 0]), reduction="none"), (_r(2, 3),)),
    (
        "bce_with_logits",
        lambda x: F.binary_cross_entropy_with_logits(x, np.array([0.0, 1.0, 1.0, 0.3])),
        (np.array([-2.0, 0.5, 3.0, -0.1]),),
    ),
]


@pytest.mark.parametrize(("f", "inputs"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_first_derivatives(f: Callable[..., Any], inputs: tuple[Any, ...]) -> None:
    assert gradcheck(f, inputs)


SECOND_ORDER = ["linear", "conv2d", "layer_norm", "gelu", "log_softmax", "cross_entropy", "mse"]


@pytest.mark.parametrize(
    ("f", "inputs"),
    [c[1:] for c in CASES if c[0] in SECOND_ORDER],
    ids=[c[0] for c in CASES if c[0] in SECOND_ORDER],
)
def test_second_derivatives(f: Callable[..., Any], inputs: tuple[Any, ...]) -> None:
    assert gradgradcheck(f, inputs)


def test_softplus_derivative_at_zero_is_one_half() -> None:
    x = cr.tensor([0.0], requires_grad=True)
    F.softplus(x).sum().backward()
    assert x.grad.data[0] == 0.5
    # so BCE at a zero logit has gradient sigmoid(0) - y
    z = cr.tensor([0.0, 0.0], requires_grad=True)
    F.binary_cross_entropy_with_logits(z, np.array([0.0, 1.0]), reduction="sum").backward()
    np.testing.assert_array_equal(z.grad.data, [0.5, -0.5])


def test_a_whole_model_gradchecks() -> None:
    cr.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1, dtype=np.float64),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.LayerNorm(8, dtype=np.float64),
        nn.Linear(8, 3, dtype=np.float64),
    )
    x = _r(2, 1, 4, 4)
    target = np.array([0, 2])

    def loss() -> cr.Tensor:
        return F.cross_entropy(model(x), target)

    loss().backward()
    eps = 1e-6
    for name, p in model.named_parameters():
        numeric = np.zeros_like(p.data)
        for i in np.ndindex(p.data.shape):  # central differences on the model's own weights
            keep = p.data[i]
            with cr.no_grad():
                p.data[i] = keep + eps
                up = loss().item()
                p.data[i] = keep - eps
                down = loss().item()
            p.data[i] = keep
            numeric[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(p.grad.data, numeric, rtol=1e-5, atol=1e-8, err_msg=name)


def test_dropout_statistics_and_modes() -> None:
    cr.manual_seed(0)
    x = cr.ones(200, 100)
    drop = nn.Dropout(0.25)
    y = drop(x).data
    assert set(np.unique(y).tolist()) <= {0.0, float(np.float32(1 / 0.75))}  # float32
    assert (y == 0).mean() == pytest.approx(0.25, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=0.02)
    drop.eval()
    assert drop(x) is x
    assert not nn.Dropout(1.0)(x).data.any()
    with pytest.raises(ValueError, match="Dropout: p must be in"):
        nn.Dropout(1.5)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 6),
    c=st.integers(1, 5),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    scale=st.sampled_from([1.0, 30.0]),
    seed=st.integers(0, 2**16),
)
def test_fused_cross_entropy_matches_log_softmax_then_pick(
    n: int, c: int, reduction: str, scale: float, seed: int
) -> None:
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, c)) * scale
    t = g.integers(0, c, n)

    def composite(z: cr.Tensor) -> cr.Tensor:
        picked = -z.log_softmax(1)[np.arange(n), t]
        return picked.mean() if reduction == "mean" else (
            picked.sum() if reduction == "sum" else picked)

    def fused(z: cr.Tensor) -> cr.Tensor:
        return F.cross_entropy(z, t, reduction=reduction)

    np.testing.assert_allclose(fused(cr.tensor(x)).data, composite(cr.tensor(x)).data,
                               rtol=1e-12, atol=1e-12)
    for transform in (cr.jacrev, cr.jacfwd):
        np.testing.assert_allclose(np.asarray(transform(fused)(x)),
                                   np.asarray(transform(composite)(x)), rtol=1e-9, atol=1e-12)
    if reduction != "none":
        np.testing.assert_allclose(np.asarray(cr.hessian(fused)(x)),
                                   np.asarray(cr.hessian(composite)(x)), rtol=1e-9, atol=1e-12)
