"""Training the GPT on names, the saved run, and what ``chainrule train --data names`` prints."""

from __future__ import annotations

import math
import string
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from chainrule import backend, optim
from chainrule.engine import Tensor, no_grad
from chainrule.engine.factories import manual_seed
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
from chainrule.lm.model import GPT, sample
from chainrule.nn import functional as F
from chainrule.plots import plot_loss_curves
from chainrule.runs import read_run, write_run
from chainrule.serialize import load
from chainrule.train import blas_threads

RUN_FORMAT = "chainrule-names-run"


@dataclass
class LMConfig:
    """Everything that determines a run; saved as ``config.json`` beside the model."""

    data: str = "names"
    epochs: int = 10
    batch_size: int = 32
    lr: float = 3e-3
    seed: int = 0
    n_embd: int = 64
    n_head: int = 4
    n_layer: int = 2
    block_size: int = 16
    val_fraction: float = 0.1
    split_seed: int = 0
    max_names: int | None = None

    def __post_init__(self) -> None:
        if self.data not in DATASETS:
            raise ValueError(f"unknown data {self.data!r}; choose one of {', '.join(DATASETS)}")
        for name in ("epochs", "batch_size", "n_embd", "n_head", "n_layer", "block_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(
                f"n_embd {self.n_embd} must be a multiple of n_head {self.n_head} (each head "
                "sees n_embd / n_head numbers)"
            )
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction!r}")
        if self.max_names is not None and (
            isinstance(self.max_names, bool) or not isinstance(self.max_names, int)
            or self.max_names < 10
        ):
            raise ValueError(f"max_names must be an integer of at least 10, got {self.max_names!r}")


def build_model(config: LMConfig, vocab_size: int) -> GPT:
    return GPT(vocab_size, config.block_size, config.n_embd, config.n_head, config.n_layer)


def lm_loss(model: GPT, inputs: Any, targets: Any, reduction: str = "mean",
            device: str = "cpu") -> Tensor:
    """The loss of next-token prediction; host batches are copied to ``device`` first."""
    inputs, targets = backend.to_device(inputs, device), backend.to_device(targets, device)
    logits = model(inputs)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           reduction=reduction, ignore_index=IGNORE)


def evaluate(model: GPT, data: Encoded, batch_size: int = 1024) -> float:
    """Mean loss in nats per predicted character over ``data`` (in eval mode)."""
    device = next(iter(model.parameters())).device
    was_training = model.training
    model.eval()
    total = 0.0
    with no_grad():
        for inputs, targets in batches(data, batch_size):
            total += float(lm_loss(model, inputs, targets, "sum", device).item())
    model.train(was_training)
    return total / int((data.targets != IGNORE).sum())


# ------------------------------------------------------------------ training
@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    val_loss: float
    lr: float
    seconds: float


@dataclass
class LMResult:
    config: LMConfig
    model: GPT
    tokenizer: Tokenizer
    bigram_val_loss: float
    history: list[EpochStats] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def val_loss(self) -> float:
        return self.history[-1].val_loss if self.history else float("nan")


class Diverged(RuntimeError):
    """The training loss became NaN or infinite."""


def _progress(items: Iterator[Any], total: int, desc: str, enabled: bool) -> Any:
    """tqdm over ``items`` when available and wanted, else the items themselves."""
    if enabled:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return items
        return tqdm(items, total=total, desc=desc, leave=False, unit="batch", dynamic_ncols=True)
    return items


def train_lm(
    config: LMConfig,
    *,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    threads: int | None = 1,
    device: str = "cpu",
) -> LMResult:
    """Train a GPT on ``config.data``; one line per epoch to ``log`` (default: print).

    ``progress`` shows a tqdm bar with the live loss (when tqdm is installed);
    ``threads`` caps the BLAS threads while training (see ``train.blas_threads``);
    ``device`` is where the model trains (its losses are read once per epoch there).
    """
    backend.parse_device(device, "train_lm")
    with blas_threads(threads):
        return _train(config, progress, log if log is not None else print, device)


def _train(config: LMConfig, progress: bool, write: Callable[[str], None],
           device: str = "cpu") -> LMResult:
    start = time.perf_counter()
    tokenizer = Tokenizer()
    train_names, val_names = split_names(
        config.data, config.val_fraction, config.split_seed, config.max_names
    )
    train = encode_names(train_names, tokenizer, config.block_size)
    val = encode_names(val_names, tokenizer, config.block_size)
    manual_seed(config.seed)
    model = build_model(config, tokenizer.vocab_size).to(device)
    opt = optim.Adam(model.parameters(), lr=config.lr)
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs * steps_per_epoch)
    rng = np.random.default_rng(config.seed)
    result = LMResult(config, model, tokenizer, bigram_loss(train, val, tokenizer.vocab_size))
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        lr = opt.param_groups[0]["lr"]
        bar = _progress(batches(train, config.batch_size, rng), steps_per_epoch,
                        f"epoch {epoch}/{config.epochs}", progress)
        loss_sum, seen = 0.0, 0  # loss_sum: an array where the model is
        for inputs, targets in bar:
            loss = lm_loss(model, inputs, targets, device=device)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            n = int((targets != IGNORE).sum())  # the host's own batch: no wait
            loss_sum = loss_sum + loss.data * n
            seen += n
            if hasattr(bar, "set_postfix"):  # the live loss: a read of the device per step
                bar.set_postfix(loss=f"{float(backend.to_host(loss_sum)) / seen:.4f}",
                                refresh=False)
        if hasattr(bar, "close"):
            bar.close()
        train_loss = float(backend.to_host(loss_sum)) / seen
        if not math.isfinite(train_loss):
            raise Diverged(
                f"the training diverged at epoch {epoch}: the mean training loss became "
                f"{train_loss}; try a smaller learning rate than --lr {config.lr:g}"
            )
        stats = EpochStats(epoch, train_loss, evaluate(model, val), lr, time.perf_counter() - t0)
        result.history.append(stats)
        write(
            f"epoch {epoch:>3}/{config.epochs}  train loss {stats.train_loss:.4f}  "
            f"val loss {stats.val_loss:.4f}  (bigram {result.bigram_val_loss:.4f})  "
            f"({stats.seconds:.1f}s)"
        )
    result.seconds = time.perf_counter() - start
    return result


# ------------------------------------------------------------------ saving and loading
def save_run(result: LMResult, out_dir: str | Path) -> list[Path]:
    """Write ``model.npz``, ``config.json`` and ``history.json``; return the paths."""
    last = result.history[-1] if result.history else None
    config = {
        "format": RUN_FORMAT,
        "version": 1,
        **asdict(result.config),
        "chars": result.tokenizer.chars,
        "train_loss": last.train_loss if last else None,
        "val_loss": last.val_loss if last else None,
        "bigram_val_loss": result.bigram_val_loss,
        "train_seconds": round(result.seconds, 3),
    }
    return write_run(out_dir, result.model, config, result.history)


def load_run(path: str | Path) -> tuple[GPT, Tokenizer, LMConfig]:
    """Rebuild the model saved in a run directory (or from its ``model.npz``)."""
    model_path, raw = read_run(path, RUN_FORMAT, "a run of 'chainrule train --data names' "
                               "(a digits run is read by 'chainrule evaluate')")
    config_path = model_path.with_name("config.json")
    known = {f.name for f in fields(LMConfig)}
    try:
        config = LMConfig(**{k: v for k, v in raw.items() if k in known})
        tokenizer = Tokenizer(str(raw.get("chars", string.ascii_lowercase)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{str(config_path)!r} has a bad setting: {exc}") from None
    model = build_model(config, tokenizer.vocab_size)
    try:
        model.load_state_dict(load(model_path))
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{str(model_path)!r} does not hold this GPT: {exc}") from None
    model.eval()
    return model, tokenizer, config


def main_train(config: LMConfig, out_dir: str | Path, progress: bool = True,
               device: str = "cpu") -> LMResult:
    """What ``chainrule train --data names`` does: train, report, write the run, show samples."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)  # fail before training, not after
    n_params = sum(
        p.numel() for p in build_model(config, Tokenizer().vocab_size).parameters()
    )
    print(
        f"training a GPT on {config.data}: {config.n_layer} layer(s), n_embd {config.n_embd}, "
        f"{config.n_head} heads, {n_params:,} parameters; {config.epochs} epoch(s), batch "
        f"{config.batch_size}, adam lr {config.lr:g}, seed {config.seed}"
        + (f", on {device}" if device != "cpu" else "")
    )
    result = train_lm(config, progress=progress and sys.stderr.isatty(), device=device)
    written = save_run(result, out)
    history = result.history
    if plot_loss_curves(
        [h.epoch for h in history], [h.train_loss for h in history],
        [h.val_loss for h in history], result.bigram_val_loss, out / "curves.png",
    ):
        written.append(out / "curves.png")
    else:
        print("matplotlib is not installed: skipping curves.png (pip install 'chainrule[train]')")
    gap = result.bigram_val_loss - result.val_loss
    print(
        f"validation loss {result.val_loss:.4f} nats/char, {abs(gap):.4f} "
        f"{'below' if gap >= 0 else 'above'} the bigram baseline's {result.bigram_val_loss:.4f}, "
        f"in {result.seconds:.1f}s"
    )
    print("samples: " + ", ".join(sample(result.model, result.tokenizer, 10, seed=0)))
    print("wrote " + ", ".join(str(p) for p in written))
    return result
