"""Pictures of a training run: loss and accuracy curves, and the confusion matrix.

Both need matplotlib (``pip install 'chainrule[train]'``) and return False
without it. They draw on a bare ``Figure``, never pyplot, so no GUI backend
is involved.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from chainrule.train import EpochStats


def _figure() -> Any:
    """A matplotlib Figure (no pyplot, so no GUI backend), or None without matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure


def plot_curves(history: list[EpochStats], path: str | Path) -> bool:
    """Loss and accuracy per epoch as a PNG; False when matplotlib is missing."""
    Figure = _figure()
    if Figure is None:
        return False
    epochs = [h.epoch for h in history]
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, [h.train_loss for h in history], label="train")
    ax_loss.plot(epochs, [h.test_loss for h in history], label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="Loss", yscale="log")
    ax_acc.plot(epochs, [100 * h.train_acc for h in history], label="train")
    ax_acc.plot(epochs, [100 * h.test_acc for h in history], label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.savefig(path, dpi=110)
    return True


def plot_loss_curves(
    epochs: list[int],
    train: list[float],
    val: list[float],
    baseline: float | None,
    path: str | Path,
) -> bool:
    """Training and validation loss per epoch (and a baseline's, flat) as a PNG.

    False when matplotlib is missing.
    """
    Figure = _figure()
    if Figure is None:
        return False
    fig = Figure(figsize=(6, 3.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(epochs, train, label="train")
    ax.plot(epochs, val, label="validation")
    if baseline is not None:
        ax.axhline(baseline, color="gray", linestyle="--", label="bigram (validation)")
    ax.set(xlabel="epoch", ylabel="cross-entropy (nats per character)", title="Loss")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110)
    return True


def plot_confusion(cm: NDArray[np.integer], path: str | Path, title: str = "") -> bool:
    """The confusion matrix as an annotated PNG; False when matplotlib is missing."""
    Figure = _figure()
    if Figure is None:
        return False
    n = len(cm)
    fig = Figure(figsize=(5.2, 4.6), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(cm, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ticks = list(range(n))
    ax.set(xticks=ticks, yticks=ticks, xlabel="predicted", ylabel="true", title=title)
    high = cm.max() / 2 if cm.size else 0
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                color = "white" if cm[i, j] > high else "black"
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", color=color)
    fig.savefig(path, dpi=110)
    return True
