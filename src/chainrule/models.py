"""The digits models behind ``chainrule train`` and how they are scored.

- ``mlp``: inputs standardised with training-set statistics, then
  64 → 256 → 128 → 10, each hidden layer followed by BatchNorm and ReLU;
- ``cnn``: two 3x3 convolutions (16 and 32 channels, each followed by ReLU
  and 2x2 max pooling) and a 128 → 64 → 10 head with BatchNorm and ReLU.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule import backend, nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.engine import Tensor, no_grad
from chainrule.nn import functional as F

MODELS = ("mlp", "cnn")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
N_CLASSES = 10


class Standardize(nn.Module):
    """``(x - mean) / scale`` with fixed per-feature statistics kept as buffers.

    The statistics come from the training set (``scale`` is its standard
    deviation plus 0.1, so nearly constant border pixels are not blown up);
    as buffers they are saved in ``state_dict()`` with the weights.
    """

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.register_buffer("mean", np.zeros(num_features, dtype=np.float32))
        self.register_buffer("scale", np.ones(num_features, dtype=np.float32))

    def fit(self, X: NDArray[Any]) -> Standardize:
        self.mean.data[...] = X.mean(axis=0)
        self.scale.data[...] = X.std(axis=0) + 0.1
        return self

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean.data) / self.scale.data

    def extra_repr(self) -> str:
        return str(self.mean.shape[0])


def build_model(name: str, X_train: NDArray[Any] | None = None) -> nn.Module:
    """A fresh, randomly initialised ``mlp`` or ``cnn`` (seed with ``cr.manual_seed``).

    The MLP standardises its inputs with statistics of ``X_train`` (when given;
    ``load_state_dict`` restores them otherwise).
    """
    if name == "mlp":
        standardize = Standardize(64)
        if X_train is not None:
            standardize.fit(X_train)
        return nn.Sequential(
            standardize,
            nn.Linear(64, 256),
            nn.BatchNorm1d(256),
            nn.ReLU(),
            nn.Linear(256, 128),
            nn.BatchNorm1d(128),
            nn.ReLU(),
            nn.Linear(128, N_CLASSES),
        )
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 16 x 4 x 4
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 32 x 2 x 2
            nn.Flatten(),
            nn.Linear(128, 64),
            nn.BatchNorm1d(64),
            nn.ReLU(),
            nn.Linear(64, N_CLASSES),
        )
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")


def make_optimizer(name: str, params: Iterable[Tensor], lr: float) -> optim.Optimizer:
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)
    if name == "adam":
        return optim.Adam(params, lr=lr)
    if name == "adamw":
        return optim.AdamW(params, lr=lr)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")




def evaluate(
    model: nn.Module, X: NDArray[Any], y: NDArray[np.int64], batch_size: int = 512
) -> tuple[float, float, NDArray[np.int64]]:
    """Mean cross-entropy, accuracy and predicted labels of ``model`` (in eval mode), the
    batches sent to the device of the model's parameters."""
    device = next(iter(model.parameters())).device
    was_training = model.training
    model.eval()
    total, preds = 0.0, []
    with no_grad():
        for xb, yb in DataLoader(TensorDataset(X, y), batch_size=batch_size):
            logits = model(xb.to(device))
            total += float(F.cross_entropy(logits, yb.to(device), reduction="sum").item())
            preds.append(backend.to_host(logits.data.argmax(axis=1)))
    model.train(was_training)
    pred = np.concatenate(preds).astype(np.int64)
    return total / len(y), float((pred == y).mean()), pred


def confusion_matrix(
    y_true: NDArray[np.integer], y_pred: NDArray[np.integer], n_classes: int = N_CLASSES
) -> NDArray[np.int64]:
    """``cm[i, j]``: how many images of class ``i`` were predicted as ``j``."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def format_confusion(cm: NDArray[np.integer]) -> str:
    """The confusion matrix as an aligned text table (rows: true, columns: predicted)."""
    n = len(cm)
    width = max(3, len(str(int(cm.max()))) + 1)
    head = "true\\pred" + "".join(f"{j:>{width}}" for j in range(n))
    rows = [f"{i:>9}" + "".join(f"{int(v):>{width}}" for v in cm[i]) for i in range(n)]
    return "\n".join([head, *rows])
