"""The layers of a transformer that were missing: ``RMSNorm`` and ``MultiheadAttention``.

Both have PyTorch's arguments, parameter names, shapes, ``state_dict`` keys
and initialisations, so weights copy across in either direction. The
computing is done by ``F.rms_norm`` and ``F.scaled_dot_product_attention``,
built from the engine's differentiable ops: no loop over heads or positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from numpy.typing import DTypeLike

from chainrule import backend
from chainrule.engine import Tensor
from chainrule.errors import ShapeError
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.layers import Linear
from chainrule.nn.module import Module
from chainrule.nn.params import check_input_dtype, check_positive, new_param

from ..backend import xp as np  # the array library, through the one seam


class RMSNorm(Module):
    """Root-mean-square normalisation over the last axes: ``x / √(mean x² + eps) · weight``.

    ``normalized_shape`` is an int (the last axis) or a shape (the last axes);
    ``eps`` None uses the machine epsilon of the input's dtype, as in PyTorch;
    ``weight`` starts at ones (none when ``elementwise_affine=False``).
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        shape = (
            (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        )
        check_positive("RMSNorm", **{f"normalized_shape[{i}]": n for i, n in enumerate(shape)})
        if not shape:
            raise ValueError("RMSNorm: normalized_shape must name at least one axis, got ()")
        if eps is not None and not eps > 0:
            raise ValueError(f"RMSNorm: eps must be > 0 or None, got {eps!r}")
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        weight = init.ones_(new_param(shape, dtype)) if elementwise_affine else None
        self.register_parameter("weight", weight)

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight
        if weight is not None:
            check_input_dtype(self, x, weight)
        return F.rms_norm(x, self.normalized_shape, weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}"
        )


class MultiheadAttention(Module):
    """Multi-head attention: ``out_proj(concat_h softmax(Q_h K_hᵀ/√d + mask) V_h)``.

    ``in_proj_weight`` (3E, E) stacks the query, key and value projections
    (``in_proj_bias`` (3E,) likewise), ``out_proj`` is a ``Linear(E, E)``;
    each of the ``num_heads`` heads sees ``head_dim = E / num_heads`` of each.
    Inputs are ``(L, N, E)``, or ``(N, L, E)`` with ``batch_first=True``, or
    unbatched ``(L, E)``. ``forward`` returns ``(output, weights)`` as PyTorch's:
    ``weights`` are the attention weights averaged over the heads ``(N, L, S)``
    (per head ``(N, heads, L, S)`` with ``average_attn_weights=False``), or None
    with ``need_weights=False``.

    Masks follow this layer's PyTorch conventions, the opposite of
    ``F.scaled_dot_product_attention``'s for booleans: in ``attn_mask``
    ((L, S) or (N·heads, L, S)) and ``key_padding_mask`` ((N, S)) True means
    "may not attend"; a floating mask is added to the scores. ``is_causal`` is
    a hint that ``attn_mask`` is the causal mask, which must be given.

    Not supported (an error says so): ``add_bias_kv``, ``add_zero_attn``, and
    ``kdim``/``vdim`` other than ``embed_dim``. One difference: a query whose
    every key is masked gets zeros here, where PyTorch's layer gives NaN when
    it returns the weights (and zeros when it does not).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        check_positive("MultiheadAttention", embed_dim=embed_dim, num_heads=num_heads)
        if embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads "
                f"{num_heads}"
            )
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout!r}")
        unsupported = [
            name
            for name, given in (
                ("add_bias_kv=True", add_bias_kv),
                ("add_zero_attn=True", add_zero_attn),
                (f"kdim={kdim}", kdim not in (None, embed_dim)),
                (f"vdim={vdim}", vdim not in (None, embed_dim)),
            )
            if given
        ]
        if unsupported:
            raise ValueError(
                f"MultiheadAttention: {', '.join(unsupported)} is not supported; keys and "
                f"values must have embed_dim={embed_dim} features"
            )
        self.embed_dim = self.kdim = self.vdim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.in_proj_weight = new_param((3 * embed_dim, embed_dim), dtype)
        self.register_parameter(
            "in_proj_bias", new_param((3 * embed_dim,), dtype) if bias else None
        )
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """As PyTorch: Xavier-uniform in_proj_weight, zero biases, out_proj as a Linear's."""
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        name = "MultiheadAttention"
        weight, bias = self.in_proj_weight, self.in_proj_bias
        for x in (query, key, value):
            check_input_dtype(self, x, weight, "in_proj_weight")
        self_attention = query is key and key is value
        q, k, v = (F._t(x) for x in (query, key, value))
        batched = q.ndim == 3
        E, H, D = self.embed_dim, self.num_heads, self.head_dim
        if q.ndim not in (2, 3) or k.ndim != q.ndim or v.ndim != q.ndim:
            raise ShapeError(
                f"{name}: query {q.shape}, key {k.shape} and value {v.shape} must all be "
                f"batched (3-D) or all unbatched (2-D)"
            )
        if not batched:
            q, k, v = q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0)
        elif not self.batch_first:  # (L, N, E) -> (N, L, E)
            q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        (N, L, Eq), (Nk, S, Ek) = q.shape, k.shape
        if Eq != E or Ek != E or v.shape != k.shape or Nk != N:
            raise ShapeError(
                f"{name}(embed_dim={E}): query {tuple(query.shape)}, key {tuple(key.shape)} and "
                f"value {tuple(value.shape)} do not fit (batch_first={self.batch_first}: key and "
                f"value alike, every last axis {E})"
            )
        if self_attention:  # one product makes the queries, keys and values
            qkv = F.linear(q, weight, bias).reshape(N, L, 3, H, D).permute(2, 0, 3, 1, 4)
            qh, kh, vh = qkv[0], qkv[1], qkv[2]
        else:
            qh, kh, vh = (
                F.linear(x, weight[i * E : (i + 1) * E], None if bias is None else
                         bias[i * E : (i + 1) * E]).reshape(N, -1, H, D).transpose(1, 2)
                for i, x in enumerate((q, k, v))
            )
        mask = self._mask(attn_mask, key_padding_mask, is_causal, N, L, S, batched, q.data.dtype)
        dropout_p = self.dropout if self.training else 0.0
        out, weights = F._attention(qh, kh, vh, mask, dropout_p, name=name)
        out = self.out_proj(out.transpose(1, 2).reshape(N, L, E))
        if not batched:
            out = out[0]
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, (weights if batched else weights[0])

    def _mask(
        self,
        attn_mask: Any,
        key_padding_mask: Any,
        is_causal: bool,
        N: int,
        L: int,
        S: int,
        batched: bool,
        dtype: Any,
    ) -> Any:
        """Both masks as one for ``F.scaled_dot_product_attention``: (N|1, H|1, L, S),
        boolean with True where a query may attend, or floating (added to the scores)."""
        name = f"MultiheadAttention(num_heads={self.num_heads})"
        if is_causal and attn_mask is None:
            raise ValueError(
                f"{name}: is_causal=True is only a hint: pass the causal attn_mask too, a "
                "boolean (L, S) mask that is True above the diagonal, e.g. "
                "numpy.triu(numpy.ones((L, S), bool), 1)"
            )
        masks = []
        if attn_mask is not None:
            m = backend.array_of(attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask)
            if m.shape == (L, S):
                masks.append(m)
            elif m.shape == (N * self.num_heads, L, S):  # (heads, L, S) when unbatched
                masks.append(m.reshape(N, self.num_heads, L, S))
            else:
                raise ShapeError(
                    f"{name}: attn_mask of shape {m.shape} should be (L, S) = {(L, S)} or "
                    f"(N·num_heads, L, S) = {(N * self.num_heads, L, S)}"
                )
        if key_padding_mask is not None:
            m = backend.array_of(
                key_padding_mask.data if isinstance(key_padding_mask, Tensor) else key_padding_mask
            )
            want = (N, S) if batched else (S,)
            if m.shape != want:
                raise ShapeError(
                    f"{name}: key_padding_mask of shape {m.shape} should be (N, S) = {want}"
                    if batched
                    else f"{name}: key_padding_mask of shape {m.shape} should be (S,) = {want}"
                )
            masks.append(m.reshape(N, 1, 1, S))
        for m in masks:
            if m.dtype != bool and m.dtype.kind != "f":
                raise TypeError(
                    f"{name}: a mask must be boolean (True: may not attend) or floating "
                    f"(added to the scores), got dtype {m.dtype}"
                )
        if not masks:
            return None
        if all(m.dtype == bool for m in masks):
            allowed = ~masks[0]
            for m in masks[1:]:
                allowed = allowed & ~m
            return allowed
        total = dtype.type(0)  # a number: it adds to arrays of either device
        for m in masks:
            total = total + (np.where(m, -np.inf, 0.0).astype(dtype) if m.dtype == bool else m)
        return total.astype(dtype, copy=False)

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
            f"batch_first={self.batch_first}"
        )
