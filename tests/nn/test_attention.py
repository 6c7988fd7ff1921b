"""RMSNorm, MultiheadAttention and scaled_dot_product_attention without PyTorch:
central differences, exact zeros where a mask blocks, causality, stability,
a graph whose size does not depend on the number of positions or heads, and
the errors. (Against PyTorch: test_attention_torch.py.)"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.gradcheck import gradcheck, gradgradcheck
from chainrule.nn import functional as F

rng = np.random.default_rng(7)


def _r(*shape: int) -> np.ndarray:
    return rng.normal(size=shape)


def _t(a: np.ndarray, grad: bool = True) -> cr.Tensor:
    return cr.tensor(a, requires_grad=grad)


# -------------------------------------------------------------- gradcheck, float64
MASK = _r(3, 4) > -0.3
MASK[:, 0] = True  # every query may attend somewhere
SDPA_CASES: list[tuple[str, Any, tuple[Any, ...]]] = [
    ("plain", lambda q, k, v: F.scaled_dot_product_attention(q, k, v), (_r(2, 3, 2), _r(2, 4, 2),
                                                                         _r(2, 4, 3))),
    ("causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
     (_r(1, 2, 4, 3), _r(1, 2, 4, 3), _r(1, 2, 4, 2))),
    ("bool-mask", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=MASK),
     (_r(2, 3, 2), _r(2, 4, 2), _r(2, 4, 3))),
    ("float-mask", lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
     (_r(3, 2), _r(4, 2), _r(4, 3), _r(3, 4))),
    ("scale", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.3),
     (_r(3, 2), _r(4, 2), _r(4, 3))),
    ("gqa", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
     (_r(4, 2, 2), _r(2, 3, 2), _r(2, 3, 2))),
]


@pytest.mark.parametrize(("name", "f", "inputs"), SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_scaled_dot_product_attention_gradcheck(name: str, f: Any, inputs: tuple) -> None:
    assert gradcheck(f, tuple(_t(x) for x in inputs))


def test_scaled_dot_product_attention_second_derivatives() -> None:
    f = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)  # noqa: E731
    assert gradgradcheck(f, (_t(_r(3, 2)), _t(_r(3, 2)), _t(_r(3, 2))))


def test_rms_norm_gradcheck() -> None:
    assert gradcheck(lambda x, w: F.rms_norm(x, 4, w), (_t(_r(3, 4)), _t(_r(4))))
    assert gradcheck(lambda x: F.rms_norm(x, (2, 3), eps=1e-3), (_t(_r(2, 2, 3)),))
    assert gradgradcheck(lambda x, w: F.rms_norm(x, 4, w), (_t(_r(2, 4)), _t(_r(4))))


@pytest.mark.parametrize("self_attention", [True, False])
def test_multihead_attention_gradcheck_of_inputs_and_parameters(self_attention: bool) -> None:
    cr.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=cr.float64)
    mask = np.triu(np.ones((3, 3), bool), 1)

    def f(x: cr.Tensor, y: cr.Tensor, *params: cr.Tensor) -> cr.Tensor:
        return _functional_mha(mha, x, x if self_attention else y, params, mask)

    x, y = _t(_r(2, 3, 4)), _t(_r(2, 3, 4))
    params = tuple(_t(p.data.copy()) for p in mha.parameters())
    assert gradcheck(f, (x, y, *params))


def _functional_mha(
    mha: nn.MultiheadAttention, x: cr.Tensor, key: cr.Tensor, params: tuple, mask: np.ndarray
) -> cr.Tensor:
    """The layer's forward with its parameters swapped for ``params`` (Tensors to check)."""
    old = (mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight, mha.out_proj.bias)
    try:
        for owner, name, p in zip((mha, mha, mha.out_proj, mha.out_proj),
                                  ("in_proj_weight", "in_proj_bias", "weight", "bias"),
                                  params, strict=True):
            owner._parameters[name] = p
        return mha(x, key, key, attn_mask=mask)[0]
    finally:
        for owner, name, p in zip((mha, mha, mha.out_proj, mha.out_proj),
                                  ("in_proj_weight", "in_proj_bias", "weight", "bias"),
                                  old, strict=True):
            owner._parameters[name] = p


# -------------------------------------------------------------- what masks do
def test_a_blocked_position_gets_exactly_zero_weight_and_gradient() -> None:
    q, k, v = _t(_r(2, 4, 3)), _t(_r(2, 5, 3)), _t(_r(2, 5, 3))
    mask = _r(4, 5) > 0
    mask[:, 2] = True
    out, weights = F._attention(q, k, v, mask)
    assert (weights.data[:, ~mask] == 0.0).all()
    np.testing.assert_allclose(weights.data.sum(-1), 1.0, rtol=1e-12)
    (out * _r(2, 4, 3)).sum().backward()
    blocked_cols = ~mask.any(axis=0)  # keys no query may see get no gradient
    assert (k.grad.data[:, blocked_cols] == 0.0).all() and (v.grad.data[:, blocked_cols] == 0).all()


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_a_query_that_may_attend_nowhere_gets_zeros_not_nan(kind: str) -> None:
    q, k, v = _t(_r(3, 2)), _t(_r(4, 2)), _t(_r(4, 2))
    allowed = np.ones((3, 4), bool)
    allowed[1] = False
    mask = allowed if kind == "bool" else np.where(allowed, 0.0, -np.inf)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert np.isfinite(out.data).all()
    assert (out.data[1] == 0).all() and (out.data[[0, 2]] != 0).all()
    out.sum().backward()
    assert np.isfinite(q.grad.data).all() and (q.grad.data[1] == 0).all()
    assert np.isfinite(k.grad.data).all() and np.isfinite(v.grad.data).all()


def test_huge_scores_do_not_overflow() -> None:
    q = _t(_r(2, 3, 4) * 1e4)
    k = _t(_r(2, 5, 4) * 1e4)
    v = _t(_r(2, 5, 4))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    out.sum().backward()
    assert np.isfinite(out.data).all() and np.isfinite(q.grad.data).all()


def test_causal_attention_never_looks_ahead() -> None:
    x = _r(1, 6, 8)
    cr.manual_seed(1)
    mha = nn.MultiheadAttention(8, 2, batch_first=True, dtype=cr.float64)
    mask = np.triu(np.ones((6, 6), bool), 1)
    before = mha(cr.tensor(x), cr.tensor(x), cr.tensor(x), attn_mask=mask)[0].data
    x[0, 4] += 10.0  # change position 4: outputs 0..3 must not move
    after = mha(cr.tensor(x), cr.tensor(x), cr.tensor(x), attn_mask=mask)[0].data
    np.testing.assert_array_equal(after[0, :4], before[0, :4])
    assert not np.allclose(after[0, 4:], before[0, 4:])
    sdpa = [F.scaled_dot_product_attention(cr.tensor(a), cr.tensor(a), cr.tensor(a),
                                           is_causal=True).data for a in (x, x + (np.arange(6)
                                                                             >= 5)[:, None])]
    np.testing.assert_array_equal(sdpa[0][0, :5], sdpa[1][0, :5])


def test_causal_mask_is_aligned_top_left_when_lengths_differ() -> None:
    q, k, v = _r(2, 3), _r(5, 3), _r(5, 3)
    _, w = F._attention(q, k, v, is_causal=True)
    assert (w.data[np.triu(np.ones((2, 5), bool), 1)] == 0).all()
    assert (w.data[np.tril(np.ones((2, 5), bool))] > 0).all()


@pytest.mark.parametrize("dim", ["positions", "heads"])
def test_the_graph_does_not_grow_with_positions_or_heads(dim: str) -> None:
    """Vectorised over positions and heads: no Python loop makes an op per position or head."""

    def ops(length: int, heads: int) -> int:
        cr.manual_seed(0)
        mha = nn.MultiheadAttention(8, heads, batch_first=True)
        x = cr.randn(2, length, 8)
        out = mha(x, x, x, attn_mask=np.triu(np.ones((length, length), bool), 1))[0]
        seen, todo = set(), [out]
        while todo:
            t = todo.pop()
            if id(t) not in seen and t.grad_fn is not None:
                seen.add(id(t))
                todo += [p for p in t._parents if isinstance(p, cr.Tensor)]
        return len(seen)

    small, large = (ops(3, 2), ops(12, 2)) if dim == "positions" else (ops(5, 1), ops(5, 8))
    assert small == large


def test_multihead_attention_returns_weights_as_pytorch_does() -> None:
    cr.manual_seed(0)
    mha = nn.MultiheadAttention(6, 3)  # batch_first=False: (L, N, E)
    x = cr.randn(4, 2, 6)
    out, w = mha(x, x, x)
    assert out.shape == (4, 2, 6) and w.shape == (2, 4, 4)
    np.testing.assert_allclose(w.data.sum(-1), 1.0, rtol=1e-5)
    _, w = mha(x, x, x, average_attn_weights=False)
    assert w.shape == (2, 3, 4, 4)
    assert mha(x, x, x, need_weights=False)[1] is None
    out, w = mha(x[:, 0], x[:, 0], x[:, 0])  # unbatched
    assert out.shape == (4, 6) and w.shape == (4, 4)
    np.testing.assert_allclose(out.data, mha(x, x, x)[0].data[:, 0], rtol=1e-5, atol=1e-6)


def test_multihead_attention_parameters_and_initialisation() -> None:
    cr.manual_seed(3)
    mha = nn.MultiheadAttention(64, 4)
    assert list(mha.state_dict()) == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias",
    ]
    assert mha.in_proj_weight.shape == (192, 64) and mha.in_proj_bias.shape == (192,)
    xavier = np.sqrt(6 / (64 + 192))
    w = mha.in_proj_weight.data
    assert np.abs(w).max() <= xavier and np.abs(w).max() > 0.9 * xavier
    assert (mha.in_proj_bias.data == 0).all() and (mha.out_proj.bias.data == 0).all()
    assert np.abs(mha.out_proj.weight.data).max() <= 1 / 8
    no_bias = nn.MultiheadAttention(8, 2, bias=False)
    assert list(no_bias.state_dict()) == ["in_proj_weight", "out_proj.weight"]
    norm = nn.RMSNorm((2, 3), elementwise_affine=True)
    assert norm.weight.shape == (2, 3) and (norm.weight.data == 1).all()
    assert nn.RMSNorm(5, elementwise_affine=False).weight is None
    assert repr(nn.RMSNorm(4)) == "RMSNorm((4,), eps=None, elementwise_affine=True)"


def test_rms_norm_by_hand() -> None:
    x = _r(3, 4)
    w = _r(4)
    want = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-3) * w
    np.testing.assert_allclose(F.rms_norm(cr.tensor(x), [4], cr.tensor(w), 1e-3).data, want)
    x32 = x.astype(np.float32)
    eps32 = np.finfo(np.float32).eps
    want32 = x32 / np.sqrt((x32 * x32).mean(-1, keepdims=True) + eps32)
    np.testing.assert_allclose(nn.RMSNorm(4)(cr.tensor(x32)).data, want32, rtol=1e-6)


# -------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: F.scaled_dot_product_attention(_r(2, 3), _r(4, 2), _r(4, 2)), cr.ShapeError,
         "query (2, 3), key (4, 2) and value (4, 2) do not fit"),
        (lambda: F.scaled_dot_product_attention(_r(2, 3), _r(4, 3), _r(5, 3)), cr.ShapeError,
         "do not fit"),
        (lambda: F.scaled_dot_product_attention(_r(2, 3), _r(4, 3).astype(np.float32),
                                                _r(4, 3)), TypeError, "one floating dtype"),
        (lambda: F.scaled_dot_product_attention(_r(2, 3), _r(4, 3), _r(4, 3),
                                                attn_mask=np.ones((3, 4), bool)),
         cr.ShapeError, "attn_mask of shape (3, 4) does not broadcast to the attention scores' "
                        "shape (2, 4)"),
        (lambda: F.scaled_dot_product_attention(_r(2, 3), _r(4, 3), _r(4, 3),
                                                attn_mask=np.ones((2, 4), int)),
         TypeError, "attn_mask must be boolean (True: may attend) or of the query's dtype"),
        (lambda: F.scaled_dot_product_attention(_r(2, 3), _r(2, 3), _r(2, 3), is_causal=True,
                                                attn_mask=np.ones((2, 2), bool)),
         ValueError, "give attn_mask or is_causal=True, not both"),
        (lambda: F.scaled_dot_product_attention(_r(2, 3), _r(2, 3), _r(2, 3), dropout_p=2.0),
         ValueError, "dropout_p must be in [0, 1]"),
        (lambda: F.scaled_dot_product_attention(_r(3, 2, 2), _r(2, 2, 2), _r(2, 2, 2),
                                                enable_gqa=True),
         cr.ShapeError, "query's heads (3) to be a multiple"),
        (lambda: nn.MultiheadAttention(10, 3), ValueError, "embed_dim 10 must be divisible"),
        (lambda: nn.MultiheadAttention(8, 2, kdim=4), ValueError, "kdim=4 is not supported"),
        (lambda: nn.MultiheadAttention(8, 2, add_bias_kv=True), ValueError, "add_bias_kv=True"),
        (lambda: nn.MultiheadAttention(8, 0), ValueError, "num_heads must be a positive int"),
        (lambda: nn.RMSNorm(4, eps=0.0), ValueError, "eps must be > 0 or None"),
        (lambda: nn.RMSNorm(4)(cr.randn(3, 5)), cr.ShapeError,
         "input of shape (3, 5) does not end in normalized_shape (4,)"),
        (lambda: nn.RMSNorm(4)(cr.randn(3, 4, dtype=cr.float64)), TypeError,
         "RMSNorm: the input is float64 but the layer's weight is float32"),
    ],
)
def test_errors_name_the_problem(call: Any, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"is_causal": True}, ValueError, "is_causal=True is only a hint: pass the causal "
                                          "attn_mask too"),
        ({"attn_mask": np.ones((3, 3), bool)}, cr.ShapeError,
         "attn_mask of shape (3, 3) should be (L, S) = (4, 4) or (N·num_heads, L, S) = (4, 4, 4)"),
        ({"key_padding_mask": np.ones((4, 2), bool)}, cr.ShapeError,
         "key_padding_mask of shape (4, 2) should be (N, S) = (2, 4)"),
        ({"attn_mask": np.ones((4, 4), int)}, TypeError, "a mask must be boolean"),
    ],
)
def test_multihead_attention_refuses_bad_masks(kwargs: dict, error: type, message: str) -> None:
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = cr.randn(2, 4, 8)
    with pytest.raises(error) as info:
        mha(x, x, x, **kwargs)
    assert message in str(info.value)


def test_multihead_attention_refuses_another_dtype_and_bad_shapes() -> None:
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = cr.randn(2, 4, 8, dtype=cr.float64)
    with pytest.raises(TypeError, match="MultiheadAttention: the input is float64 but the "
                                        "layer's in_proj_weight is float32"):
        mha(x, x, x)
    x = cr.randn(2, 4, 6)
    with pytest.raises(cr.ShapeError, match=r"MultiheadAttention\(embed_dim=8\)"):
        mha(x, x, x)
    with pytest.raises(cr.ShapeError, match="all be batched"):
        mha(cr.randn(2, 4, 8), cr.randn(4, 8), cr.randn(4, 8))


@pytest.mark.parametrize("bias", [True, False])
def test_linear_of_a_stack_of_rows(bias: bool) -> None:
    """(N, T, in) inputs, as attention's projections get them, are one 2-D product inside."""
    x, w, b = _r(2, 3, 4), _r(5, 4), _r(5)
    out = F.linear(cr.tensor(x), cr.tensor(w), cr.tensor(b) if bias else None)
    np.testing.assert_allclose(out.data, x @ w.T + (b if bias else 0), rtol=1e-12)
    f = (lambda x, w, b: F.linear(x, w, b)) if bias else (lambda x, w: F.linear(x, w))
    assert gradcheck(f, tuple(_t(a) for a in ((x, w, b) if bias else (x, w))))
