"""Train and evaluate the digits classifiers behind ``chainrule train`` / ``chainrule evaluate``.

The data is :func:`chainrule.data.load_digits` (1,797 real 8x8 digits), split
once, stratified, into 80 % training and 20 % test images (1,438 / 359) with
a fixed seed (``split_seed``, 0), so every run is measured on the same test
images whatever its ``seed``. The two models, ``mlp`` and ``cnn``, are in
:mod:`chainrule.models`.

Training minimises cross-entropy with the chosen optimizer (Adam by default),
the learning rate following a cosine schedule down to zero over the epochs.
Started by ``mpiexec -n N``, each process trains on its share of every batch
(see ``docs/distributed.md``) and only rank 0 prints, plots and saves. With
``device="cuda"`` the model and each batch go to the GPU, and a training step
leaves the GPU's results there: the host reads them once per epoch (and once
per step only to show the live loss in the progress bar).

A finished run directory holds ``model.npz`` (the state dict, see
:func:`chainrule.save`), ``config.json`` (everything needed to rebuild and
re-evaluate the model, plus the final metrics), ``history.json`` (per-epoch
loss and accuracy) and, with matplotlib installed, ``curves.png`` and
``confusion.png``.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule import backend, nn, optim
from chainrule import distributed as dist
from chainrule.data import (
    DataLoader,
    DistributedSampler,
    TensorDataset,
    load_digits,
    train_test_split,
)
from chainrule.engine.factories import manual_seed
from chainrule.models import (  # noqa: F401 - also chainrule.train's names, as before
    MODELS,
    N_CLASSES,
    OPTIMIZERS,
    Standardize,
    build_model,
    confusion_matrix,
    evaluate,
    format_confusion,
    make_optimizer,
)
from chainrule.nn import functional as F
from chainrule.nn.parallel import DistributedDataParallel
from chainrule.plots import plot_confusion, plot_curves
from chainrule.runs import read_run, write_run
from chainrule.serialize import load

RUN_FORMAT = "chainrule-digits-run"

# per model: the defaults that reach the accuracy targets (see docs/training.md)
DEFAULTS: dict[str, dict[str, Any]] = {
    "mlp": {"epochs": 30, "batch_size": 32, "lr": 1e-3, "optimizer": "adam"},
    "cnn": {"epochs": 30, "batch_size": 32, "lr": 2e-3, "optimizer": "adam"},
}


@dataclass
class TrainConfig:
    """Everything that determines a run; saved as ``config.json`` beside the model."""

    model: str = "mlp"
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"
    seed: int = 0
    test_size: float = 0.2
    split_seed: int = 0

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}"
            )
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.batch_size < 2:
            raise ValueError("batch_size must be at least 2: the models use BatchNorm")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if not 0.0 < self.test_size < 1.0:
            raise ValueError(f"test_size must be in (0, 1), got {self.test_size!r}")

    @classmethod
    def for_model(cls, model: str = "mlp", **overrides: Any) -> TrainConfig:
        """The embedded defaults of ``model``, with ``overrides`` (``None`` values ignored)."""
        if model not in DEFAULTS:
            raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
        values = dict(DEFAULTS[model])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(model=model, **values)


class Diverged(RuntimeError):
    """The training loss became NaN, infinite, or over 100 times a uniform guess's (log 10)."""


def check_loss(loss: float, epoch: int, config: TrainConfig) -> None:
    chance = math.log(N_CLASSES)
    if math.isfinite(loss) and loss <= 100 * chance:
        return
    what = f"is {loss:.4g} (guessing: {chance:.2f})" if math.isfinite(loss) else f"became {loss}"
    raise Diverged(f"the training diverged at epoch {epoch}: the mean training loss {what}; "
                   f"try a smaller learning rate than --lr {config.lr:g} (the {config.model} "
                   f"default is {DEFAULTS[config.model]['lr']:g})")


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    lr: float
    seconds: float


@dataclass
class TrainResult:
    config: TrainConfig
    model: nn.Module
    history: list[EpochStats] = field(default_factory=list)
    confusion: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    seconds: float = 0.0

    @property
    def test_accuracy(self) -> float:
        return self.history[-1].test_acc if self.history else float("nan")


def digits_split(
    config: TrainConfig,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64], NDArray[np.int64]]:
    """``X_train, X_test, y_train, y_test`` shaped for ``config.model``."""
    X, y = load_digits(images=config.model == "cnn")
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=config.test_size, seed=config.split_seed, stratify=y
    )
    return X_tr, X_te, y_tr, y_te


# ------------------------------------------------------------------ the loop
Log = Callable[[str], None]


def _progress(loader: DataLoader, desc: str, enabled: bool) -> Any:
    """tqdm over the batches when available and wanted, else the plain loader."""
    if enabled:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return loader
        return tqdm(loader, desc=desc, leave=False, unit="batch", dynamic_ncols=True)
    return loader


@contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Limit the BLAS library to ``n`` threads inside the block (needs threadpoolctl).

    The matrices of these small models are tiny: splitting each product
    across threads costs more than it saves, and on a busy machine threads
    that wait for each other can make training many times slower.
    ``None``, or no threadpoolctl installed, leaves the BLAS alone.
    """
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def train(
    config: TrainConfig,
    *,
    progress: bool = True,
    log: Log | None = None,
    threads: int | None = 1,
    device: str = "cpu",
) -> TrainResult:
    """Train ``config.model`` on the digits and return the model, history and confusion matrix.

    ``progress`` shows a tqdm bar with the live loss (when tqdm is installed);
    ``log`` receives one line per epoch (default: print to stdout);
    ``threads`` caps the BLAS threads while training (see :func:`blas_threads`);
    ``device`` is where the model trains ("cpu", "cuda", "cuda:N").
    """
    backend.parse_device(device, "train")
    with blas_threads(threads):
        return _train(config, progress, log, device)


def local_batch_size(batch_size: int, world_size: int) -> int:
    """Each process's share of a global batch (BatchNorm needs at least 2 samples)."""
    if batch_size % world_size or batch_size < 2 * world_size:
        raise ValueError(
            f"batch_size {batch_size} does not split into equal shares of at least 2 over "
            f"{world_size} processes; use a multiple of {world_size} of at least {2 * world_size}"
        )
    return batch_size // world_size


def _train(config: TrainConfig, progress: bool, log: Log | None, device: str) -> TrainResult:
    dist.init_process_group()  # a world of 1 unless started by mpiexec
    rank, world = dist.get_rank(), dist.get_world_size()
    if world > 1 and device != "cpu":
        raise ValueError(f"train: several processes on device {device!r} is not built yet; "
                         "docs/gpu.md says how it would sit on cr.distributed (NCCL)")
    write: Log = log if log is not None else print
    if rank != 0:
        write, progress = (lambda line: None), False
    start = time.perf_counter()
    X_tr, X_te, y_tr, y_te = digits_split(config)
    manual_seed(config.seed)
    net = build_model(config.model, X_tr).to(device)
    model = DistributedDataParallel(net) if world > 1 else net
    opt = make_optimizer(config.optimizer, net.parameters(), config.lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
    train_set = TensorDataset(X_tr, y_tr)
    batch = local_batch_size(config.batch_size, world)
    sampler = DistributedSampler(train_set, seed=config.seed) if world > 1 else None
    n = len(sampler) if sampler is not None else len(train_set)
    loader = DataLoader(
        train_set,
        batch_size=batch,
        shuffle=sampler is None,
        seed=config.seed if sampler is None else None,
        drop_last=n % batch == 1,  # BatchNorm needs 2 samples
        sampler=sampler,
    )
    result = TrainResult(config, net)
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        if sampler is not None:
            sampler.set_epoch(epoch)
        lr = opt.param_groups[0]["lr"]
        model.train()
        bar = _progress(loader, f"epoch {epoch}/{config.epochs}", progress)
        seen, loss_sum, correct = 0, 0.0, 0.0  # loss_sum, correct: arrays on the device
        for xb, yb in bar:
            xb, yb = xb.to(device), yb.to(device)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            n = len(yb)
            seen += n
            loss_sum = loss_sum + loss.data * n  # summed where it lives: no wait for a GPU
            correct = correct + (logits.data.argmax(axis=1) == yb.data).sum()
            if bar is not loader:  # the live loss: the one read of the GPU per step
                bar.set_postfix(loss=f"{float(backend.to_host(loss_sum)) / seen:.4f}")
        if bar is not loader:
            bar.close()
        sched.step()
        read = [float(backend.to_host(v)) for v in (loss_sum, correct)]
        totals = np.array([*read, seen], dtype=np.float64)
        dist.all_reduce(totals)  # every rank's share: the whole epoch
        check_loss(totals[0] / totals[2], epoch, config)  # on every rank alike
        for buffer in net.buffers() if world > 1 else ():  # every rank keeps rank 0's
            dist.broadcast(buffer)  # statistics (BatchNorm's), and evaluates with them
        test_loss, test_acc, _ = evaluate(net, X_te, y_te)
        stats = EpochStats(
            epoch,
            totals[0] / totals[2],
            totals[1] / totals[2],
            test_loss,
            test_acc,
            lr,
            time.perf_counter() - t0,
        )
        result.history.append(stats)
        write(
            f"epoch {epoch:>3}/{config.epochs}  train loss {stats.train_loss:.4f} "
            f"acc {100 * stats.train_acc:5.1f}%  test loss {stats.test_loss:.4f} "
            f"acc {100 * stats.test_acc:5.1f}%  ({stats.seconds:.1f}s)"
        )
    _, _, pred = evaluate(net, X_te, y_te)
    result.confusion = confusion_matrix(y_te, pred)
    result.seconds = time.perf_counter() - start
    return result


# ------------------------------------------------------------------ saving and loading
def save_run(result: TrainResult, out_dir: str | Path) -> list[Path]:
    """Write ``model.npz``, ``config.json`` and ``history.json``; return the paths."""
    last = result.history[-1] if result.history else None
    config = {
        "format": RUN_FORMAT,
        "version": 1,
        **asdict(result.config),
        "test_accuracy": last.test_acc if last else None,
        "test_loss": last.test_loss if last else None,
        "train_seconds": round(result.seconds, 3),
    }
    return write_run(out_dir, result.model, config, result.history)


def load_run(path: str | Path) -> tuple[nn.Module, TrainConfig]:
    """Rebuild the model saved in a run directory (or from its ``model.npz``).

    ``config.json`` must sit next to ``model.npz``. Raises ``FileNotFoundError``
    or ``ValueError`` with the path and the problem when something is off.
    """
    model_path, raw = read_run(path, RUN_FORMAT, "a chainrule digits run config")
    config_path = model_path.with_name("config.json")
    known = {f.name for f in fields(TrainConfig)}
    try:
        config = TrainConfig(**{k: v for k, v in raw.items() if k in known})
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{str(config_path)!r} has a bad setting: {exc}") from None
    model = build_model(config.model)
    state = load(model_path)
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError) as exc:
        raise ValueError(
            f"{str(model_path)!r} does not hold a {config.model} model: {exc}"
        ) from None
    model.eval()
    return model, config


def main_train(config: TrainConfig, out_dir: str | Path, progress: bool = True,
               device: str = "cpu") -> TrainResult:
    """What ``chainrule train`` does: train, report, and write every file of the run.

    Under ``mpiexec`` every process trains and only rank 0 reports and writes.
    """
    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    out = Path(out_dir)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)  # fail before training, not after
        epochs = f"{config.epochs} epoch" + ("s" if config.epochs != 1 else "")
        split = f" ({world} processes)" if world > 1 else ""
        split += f", on {device}" if device != "cpu" else ""
        print(
            f"training {config.model} on 8x8 digits: {epochs}, batch {config.batch_size}{split}, "
            f"{config.optimizer} lr {config.lr:g}, seed {config.seed}"
        )
    result = train(config, progress=progress and sys.stderr.isatty(), device=device)
    if rank != 0:
        return result
    written = save_run(result, out)
    title = f"{config.model}: test accuracy {100 * result.test_accuracy:.1f}%"
    if plot_curves(result.history, out / "curves.png"):
        plot_confusion(result.confusion, out / "confusion.png", title)
        written += [out / "curves.png", out / "confusion.png"]
    else:
        print(
            "matplotlib is not installed: skipping curves.png and confusion.png "
            "(pip install 'chainrule[train]')"
        )
    print(f"test accuracy {100 * result.test_accuracy:.2f}% in {result.seconds:.1f}s")
    print("wrote " + ", ".join(str(p) for p in written))
    return result
