"""RMSNorm, MultiheadAttention, scaled_dot_product_attention and the cross-entropy's
ignore_index against PyTorch: float64, weights copied over, outputs and the
gradients of the inputs and parameters. Skipped when torch is not installed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

torch = pytest.importorskip("torch")
tF = torch.nn.functional

RTOL, ATOL = 1e-10, 1e-12
rng = np.random.default_rng(11)


def _r(*shape: int) -> np.ndarray:
    return rng.normal(size=shape)


def _both(*arrays: np.ndarray) -> tuple[list[Any], list[Any]]:
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _backward_both(out: Any, their_out: Any) -> None:
    np.testing.assert_allclose(out.data, their_out.detach().numpy(), rtol=RTOL, atol=ATOL)
    g = _r(*out.shape)
    (out * g).sum().backward()
    (their_out * torch.tensor(g)).sum().backward()


def _same_grads(ours: list[Any], theirs: list[Any]) -> None:
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a.grad is not None, i
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=f"input {i}")


def _blocked_row(mask: np.ndarray) -> np.ndarray:
    mask = mask.copy()
    mask[..., 1, :] = False  # query 1 may attend nowhere
    return mask


SDPA: list[tuple[str, tuple[tuple[int, ...], ...], dict[str, Any]]] = [
    ("plain", ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 2)), {}),
    ("causal", ((2, 2, 5, 4),) * 3, {"is_causal": True}),
    ("causal-L<S", ((1, 2, 3, 4), (1, 2, 6, 4), (1, 2, 6, 4)), {"is_causal": True}),
    ("causal-L>S", ((1, 2, 6, 4), (1, 2, 3, 4), (1, 2, 3, 4)), {"is_causal": True}),
    ("bool-mask", ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)),
     {"attn_mask": _r(5, 6) > -0.5}),
    ("bool-mask-broadcast", ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)),
     {"attn_mask": _r(2, 1, 5, 6) > -0.5}),
    ("bool-mask-blocked-row", ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)),
     {"attn_mask": _blocked_row(_r(5, 6) > -1)}),
    ("float-mask", ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)), {"attn_mask": _r(2, 3, 5, 6)}),
    ("float-mask-inf", ((2, 5, 4), (2, 6, 4), (2, 6, 4)),
     {"attn_mask": np.where(_r(5, 6) > 0, -np.inf, _r(5, 6))}),
    ("scale", ((2, 5, 4), (2, 6, 4), (2, 6, 3)), {"scale": 0.7}),
    ("gqa", ((1, 4, 5, 4), (1, 2, 6, 4), (1, 2, 6, 4)), {"enable_gqa": True}),
]


@pytest.mark.parametrize(("name", "shapes", "kwargs"), SDPA, ids=[c[0] for c in SDPA])
def test_scaled_dot_product_attention(name: str, shapes: tuple, kwargs: dict[str, Any]) -> None:
    ours, theirs = _both(*(_r(*s) for s in shapes))
    their_kwargs = dict(kwargs)
    if "attn_mask" in kwargs:
        their_kwargs["attn_mask"] = torch.tensor(kwargs["attn_mask"])
    out = F.scaled_dot_product_attention(*ours, **kwargs)
    their_out = tF.scaled_dot_product_attention(*theirs, **their_kwargs)
    _backward_both(out, their_out)
    _same_grads(ours, theirs)


def test_scaled_dot_product_attention_float_mask_gradient() -> None:
    ours, theirs = _both(_r(2, 5, 4), _r(2, 6, 4), _r(2, 6, 4), _r(5, 6))
    _backward_both(F.scaled_dot_product_attention(*ours[:3], attn_mask=ours[3]),
                   tF.scaled_dot_product_attention(*theirs[:3], attn_mask=theirs[3]))
    _same_grads(ours, theirs)


def _copy(ours: nn.Module, theirs: Any) -> None:
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})


def _mha_pair(E: int, H: int, **kwargs: Any) -> tuple[Any, Any]:
    cr.manual_seed(int(rng.integers(1000)))
    ours = nn.MultiheadAttention(E, H, dtype=cr.float64, **kwargs)
    theirs = torch.nn.MultiheadAttention(E, H, dtype=torch.float64, **kwargs)
    _copy(ours, theirs)
    return ours, theirs


CAUSAL = np.triu(np.ones((5, 5), bool), 1)  # True: may not attend (this layer's convention)
PADDING = np.zeros((2, 5), bool)
PADDING[1, 3:] = True
MHA: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("batch-first", {"batch_first": True}, {}),
    ("seq-first", {}, {}),
    ("causal", {"batch_first": True}, {"attn_mask": CAUSAL}),
    ("causal-hint", {"batch_first": True}, {"attn_mask": CAUSAL, "is_causal": True,
                                            "need_weights": False}),
    ("float-mask", {"batch_first": True}, {"attn_mask": _r(5, 5)}),
    ("per-head-mask", {"batch_first": True}, {"attn_mask": _r(2 * 2, 5, 5) > 0.8}),
    ("padding", {"batch_first": True}, {"key_padding_mask": PADDING}),
    ("padding-and-causal", {"batch_first": True},
     {"key_padding_mask": PADDING, "attn_mask": CAUSAL}),
    ("float-padding-and-causal", {"batch_first": True},
     {"key_padding_mask": np.where(PADDING, -np.inf, 0.0),
      "attn_mask": np.where(CAUSAL, -np.inf, 0.0)}),
    ("per-head-weights", {"batch_first": True}, {"average_attn_weights": False}),
    ("no-bias", {"batch_first": True, "bias": False}, {"attn_mask": CAUSAL}),
]


@pytest.mark.parametrize(("name", "layer_kwargs", "call_kwargs"), MHA, ids=[c[0] for c in MHA])
@pytest.mark.parametrize("self_attention", [True, False], ids=["self", "cross"])
def test_multihead_attention(
    name: str, layer_kwargs: dict[str, Any], call_kwargs: dict[str, Any], self_attention: bool
) -> None:
    ours, theirs = _mha_pair(8, 2, **layer_kwargs)
    shape = (2, 5, 8) if layer_kwargs.get("batch_first") else (5, 2, 8)
    if self_attention:
        (x,), (tx,) = _both(_r(*shape))
        xs, txs = [x, x, x], [tx, tx, tx]
    else:
        xs, txs = _both(_r(*shape), _r(*shape), _r(*shape))
    their_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                    for k, v in call_kwargs.items()}
    out, weights = ours(*xs, **call_kwargs)
    their_out, their_weights = theirs(*txs, **their_kwargs)
    if their_weights is None:
        assert weights is None
    else:
        np.testing.assert_allclose(weights.data, their_weights.detach().numpy(), rtol=RTOL,
                                   atol=ATOL)
    _backward_both(out, their_out)
    _same_grads(xs[:1] if self_attention else xs, txs[:1] if self_attention else txs)
    their_params = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, their_params[n].grad.numpy(), rtol=1e-9,
                                   atol=1e-11, err_msg=n)


def test_multihead_attention_unbatched_and_state_dict_keys() -> None:
    ours, theirs = _mha_pair(6, 3)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    (x,), (tx,) = _both(_r(4, 6))
    out, w = ours(x, x, x, attn_mask=CAUSAL[:4, :4])
    their_out, their_w = theirs(tx, tx, tx, attn_mask=torch.tensor(CAUSAL[:4, :4]))
    np.testing.assert_allclose(w.data, their_w.detach().numpy(), rtol=RTOL, atol=ATOL)
    _backward_both(out, their_out)
    _same_grads([x], [tx])
    per_head = _r(3, 4, 4) > 0.5  # (heads, L, S) for an unbatched input
    np.testing.assert_allclose(ours(x, x, x, attn_mask=per_head)[0].data,
                               theirs(tx, tx, tx, attn_mask=torch.tensor(per_head))[0]
                               .detach().numpy(), rtol=RTOL, atol=ATOL)
    no_bias = nn.MultiheadAttention(4, 2, bias=False)
    assert list(no_bias.state_dict()) == list(
        torch.nn.MultiheadAttention(4, 2, bias=False).state_dict()
    )


@pytest.mark.parametrize(
    ("shape", "normalized", "kwargs"),
    [((3, 4, 6), 6, {}), ((3, 4, 6), (4, 6), {"eps": 1e-3}), ((5, 6), [6],
                                                               {"elementwise_affine": False})],
)
def test_rms_norm(shape: tuple, normalized: Any, kwargs: dict[str, Any]) -> None:
    ours = nn.RMSNorm(normalized, dtype=cr.float64, **kwargs)
    theirs = torch.nn.RMSNorm(normalized, dtype=torch.float64, **kwargs)
    if ours.weight is not None:
        ours.weight.data[...] = _r(*ours.weight.shape)
    _copy(ours, theirs)
    (x,), (tx,) = _both(_r(*shape))
    _backward_both(ours(x), theirs(tx))
    _same_grads([x], [tx])
    if ours.weight is not None:
        np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(),
                                   rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(
        F.rms_norm(x, normalized, eps=None).data,
        tF.rms_norm(tx, list(np.atleast_1d(normalized)), eps=None).detach().numpy(),
        rtol=RTOL, atol=ATOL,
    )


IGNORED = np.array([0, -100, 2, -100, 1, 3])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    ("shape", "target", "ignore_index"),
    [
        ((6, 4), IGNORED, -100),
        ((6, 4), np.array([0, 7, 2, 7, 1, 3]), 7),  # ignore_index need not be a class
        ((6, 4), np.array([3, 2, 1, 0, 1, 2]), -100),  # nothing to ignore
        ((2, 4, 3), np.array([[0, -100, 2], [-100, 1, 3]]), -100),
    ],
)
def test_cross_entropy_and_nll_ignore_index(
    reduction: str, shape: tuple, target: np.ndarray, ignore_index: int
) -> None:
    for ours_f, their_f, prepare in (
        (F.cross_entropy, tF.cross_entropy, lambda x: x),
        (F.nll_loss, tF.nll_loss, lambda x: x.log_softmax(1)),
    ):
        (x,), (tx,) = _both(_r(*shape))
        out = ours_f(prepare(x), target, reduction=reduction, ignore_index=ignore_index)
        their_out = their_f(prepare(tx), torch.tensor(target), reduction=reduction,
                            ignore_index=ignore_index)
        _backward_both(out, their_out)
        _same_grads([x], [tx])
    loss = nn.CrossEntropyLoss(reduction=reduction, ignore_index=ignore_index)
    their_loss = torch.nn.CrossEntropyLoss(reduction=reduction, ignore_index=ignore_index)
    x = _r(*shape)
    np.testing.assert_allclose(loss(cr.tensor(x), target).data,
                               their_loss(torch.tensor(x), torch.tensor(target)).numpy(),
                               rtol=RTOL, atol=ATOL)


def test_cross_entropy_with_every_target_ignored_is_nan_as_in_pytorch() -> None:
    x = _r(3, 4)
    t = np.full(3, -100)
    ours = F.cross_entropy(cr.tensor(x), t).item()
    theirs = tF.cross_entropy(torch.tensor(x), torch.tensor(t)).item()
    assert np.isnan(ours) and np.isnan(theirs)
    assert F.cross_entropy(cr.tensor(x), t, reduction="sum").item() == 0.0
