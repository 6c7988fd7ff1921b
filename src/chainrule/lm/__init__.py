"""A character-level GPT on real names: ``chainrule train --data names`` and ``chainrule sample``.

The model is microgpt's (A. Karpathy, 2026) on tensors, layers of ``chainrule.nn``:

- a vocabulary of the 26 letters and BOS, a token that marks where a name
  begins and ends: "ada" is read as BOS a d a and should be followed by
  a d a BOS;
- token and position embeddings, added and RMS-normalised;
- ``n_layer`` pre-norm blocks: ``x + attention(RMSNorm(x))`` with causal
  multi-head self-attention, then ``x + MLP(RMSNorm(x))`` with a ReLU MLP
  ``n_embd -> 4 n_embd -> n_embd``; no biases;
- a head giving one score (logit) per token of the vocabulary.

With ``n_embd=16, n_head=4, n_layer=1`` it is exactly the model of
``examples/microgpt.py``, which computes it one scalar ``cr.Value`` at a time.

Data: ``cr.data.load_names()`` (5,163 first names) or ``load_surnames()``,
split once into training and validation names with a fixed seed
(``split_seed``), so every run is measured on the same validation names.
Names are batched with padding: inputs padded with BOS, targets with -100,
which ``F.cross_entropy`` ignores, so losses are in nats per predicted
character (each letter and the final BOS). The bigram baseline (next letter
from the previous one alone, counted on the training names, add-one
smoothing) is measured on the same validation names.

A run directory holds ``model.npz``, ``config.json`` (everything needed to
rebuild the model and the final losses), ``history.json`` and, with
matplotlib, ``curves.png``.

``chainrule.lm.data`` holds the tokens, batches and the bigram baseline,
``chainrule.lm.model`` the model and sampling, ``chainrule.lm.training`` the
training loop and the saved runs.
"""

from chainrule.lm.data import (
    DATASETS,
    IGNORE,
    Encoded,
    Tokenizer,
    batches,
    bigram_loss,
    encode_names,
    split_names,
)
from chainrule.lm.model import GPT, Block, sample
from chainrule.lm.training import (
    RUN_FORMAT,
    Diverged,
    EpochStats,
    LMConfig,
    LMResult,
    build_model,
    evaluate,
    lm_loss,
    load_run,
    main_train,
    save_run,
    train_lm,
)

__all__ = [
    "DATASETS",
    "GPT",
    "IGNORE",
    "RUN_FORMAT",
    "Block",
    "Diverged",
    "Encoded",
    "EpochStats",
    "LMConfig",
    "LMResult",
    "Tokenizer",
    "batches",
    "bigram_loss",
    "build_model",
    "encode_names",
    "evaluate",
    "lm_loss",
    "load_run",
    "main_train",
    "sample",
    "save_run",
    "split_names",
    "train_lm",
]
