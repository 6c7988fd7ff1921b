"""microgpt's model on tensors: a small causal transformer over characters, and sampling."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend, nn
from chainrule.engine import Tensor, no_grad
from chainrule.lm.data import Tokenizer


class Block(nn.Module):
    """``x + attention(RMSNorm(x))``, then ``x + MLP(RMSNorm(x))``."""

    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        self.norm1 = nn.RMSNorm(n_embd, eps=1e-5)
        self.attn = nn.MultiheadAttention(n_embd, n_head, bias=False, batch_first=True)
        self.norm2 = nn.RMSNorm(n_embd, eps=1e-5)
        self.fc1 = nn.Linear(n_embd, 4 * n_embd, bias=False)
        self.fc2 = nn.Linear(4 * n_embd, n_embd, bias=False)

    def forward(self, x: Tensor, causal_mask: Any) -> Tensor:
        h = self.norm1(x)
        x = x + self.attn(h, h, h, attn_mask=causal_mask, need_weights=False, is_causal=True)[0]
        return x + self.fc2(self.fc1(self.norm2(x)).relu())


class GPT(nn.Module):
    """A causal transformer over tokens: ``(N, T)`` token ids -> ``(N, T, vocab)`` logits."""

    def __init__(
        self, vocab_size: int, block_size: int = 16, n_embd: int = 64, n_head: int = 4,
        n_layer: int = 2,
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.norm = nn.RMSNorm(n_embd, eps=1e-5)
        self.blocks = nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)])
        self.head = nn.Linear(n_embd, vocab_size, bias=False)

    def forward(self, idx: Any) -> Tensor:
        idx = idx.data if isinstance(idx, Tensor) else idx
        if not backend.is_array(idx):
            idx = np.asarray(idx)
        if idx.ndim != 2 or not 1 <= idx.shape[1] <= self.block_size:
            raise ValueError(
                f"GPT: expected token ids of shape (N, T) with T <= block_size "
                f"{self.block_size}, got {idx.shape}"
            )
        t = idx.shape[1]
        # every position's own embedding: a slice of the table, (T, n_embd)
        x = self.norm(self.wte(idx) + self.wpe.weight[:t])
        xp = backend.namespace(idx)  # the mask is made where the tokens are
        mask = xp.triu(xp.ones((t, t), dtype=bool), 1)  # True: a later token, not to be seen
        for block in self.blocks:
            x = block(x, mask)
        return self.head(x)


def sample(
    model: GPT,
    tokenizer: Tokenizer,
    num: int,
    seed: int = 0,
    temperature: float = 1.0,
) -> list[str]:
    """``num`` new names, drawn one letter at a time, all at once; the same for a seed.

    Each step runs the model on every name so far and draws each name's next
    token from ``softmax(logits / temperature)`` (below 1: bolder, safer
    choices; above 1: more surprising ones) until it draws BOS or reaches
    ``block_size`` tokens.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    rng = np.random.default_rng(seed)
    device = next(iter(model.parameters())).device  # the model runs there, the drawing here
    tokens = np.full((num, 1), tokenizer.bos, dtype=np.int64)
    done = np.zeros(num, dtype=bool)
    was_training = model.training
    model.eval()
    with no_grad():
        while not done.all() and tokens.shape[1] < model.block_size + 1:
            last = model(backend.to_device(tokens, device)).data[:, -1]
            logits = backend.to_host(last).astype(np.float64) / temperature
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
            draw = (cdf < rng.random((num, 1))).sum(axis=1).clip(max=tokenizer.vocab_size - 1)
            draw[done] = tokenizer.bos
            done |= draw == tokenizer.bos
            tokens = np.concatenate([tokens, draw[:, None]], axis=1)
    model.train(was_training)
    return [tokenizer.decode(row[1:]) for row in tokens]
