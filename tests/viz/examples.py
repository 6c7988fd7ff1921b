"""The learners' examples: seed note 003's three scalar graphs and seed note 002's
walk-through (a linear layer, a sigmoid, mean squared error, a batch of 2), with
the walk-through's gradients computed by hand in NumPy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import Value, nn


def named(v: Any, label: str) -> Any:
    v.label = label
    return v


def example_1() -> Value:
    a, b, d = Value(3.0, label="a"), Value(2.0, label="b"), Value(4.0, label="d")
    return named(named(a + b, "c") * d, "L")


def example_2() -> Value:
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    d, f = Value(4.0, label="d"), Value(2.0, label="f")
    return named(named(named(a * b, "c") + d, "e") * f, "L")


def example_3() -> Value:
    x = Value(5.0, label="x")
    return named(named(x + 2, "y") * named(x * 3, "z"), "L")


class Net(nn.Module):
    """Seed 002's model: Y = X·Wᵀ + b, then A = σ(Y)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 2)
        self.act = nn.Sigmoid()

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        return self.act(self.fc1(x))


W = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]])
B = np.array([0.1, -0.1])
X = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]])  # a batch of 2, 3 features
T = np.array([[1.0, 0.0], [0.0, 1.0]])  # the targets, 2 classes


@dataclass
class Walkthrough:
    model: Net
    x: cr.Tensor
    loss: cr.Tensor
    by_hand: dict[str, np.ndarray]


def seed_002(dtype: Any = np.float64) -> Walkthrough:
    model = Net().to(dtype)
    with cr.no_grad():
        model.fc1.weight.data[...] = W
        model.fc1.bias.data[...] = B
    x = named(cr.tensor(X.astype(dtype)), "x")
    target = named(cr.tensor(T.astype(dtype)), "target")
    loss = nn.MSELoss()(model(x), target)
    loss.backward()
    return Walkthrough(model, x, loss, by_hand())


def by_hand() -> dict[str, np.ndarray]:
    """Seed 002's six steps, written out in NumPy."""
    Y = X @ W.T + B
    A = 1 / (1 + np.exp(-Y))
    dA = 2 * (A - T) / A.size  # 1. the loss gradient
    dY = A * (1 - A) * dA  # 2. back through the activation
    dW = dY.T @ X  # 3. the weight gradient
    db = dY.sum(axis=0)  # 4. the bias gradient
    dX = dY @ W  # 5. the gradient passed on
    return {"Y": Y, "A": A, "dA": dA, "dY": dY, "dW": dW, "db": db, "dX": dX,
            "loss": np.mean((A - T) ** 2)}


def attention_head() -> Any:
    """docs/gpt.md's attention head on two tokens (causal), its loss after backward()."""
    lin = [nn.Linear(2, 2, bias=False).double() for _ in range(3)]
    for layer, w in zip(lin, ([[1.0, 0.0], [0.5, -1.0]], [[0.5, 1.0], [-1.0, 0.5]],
                              [[1.0, 2.0], [0.0, -1.0]]), strict=True):
        layer.weight.data[...] = w
    x = named(cr.tensor(np.array([[1.0, 0.0], [0.5, 1.0]])), "x")
    q, k, v = (layer(x) for layer in lin)
    scores = named(q @ k.T / np.sqrt(2.0), "scores")
    masked = named(cr.where(np.triu(np.ones((2, 2), dtype=bool), 1), -np.inf, scores), "masked")
    out = named(named(masked.softmax(-1), "weights") @ v, "out")
    loss = named(((out - np.array([[0.0, 0.0], [1.0, 0.0]])) ** 2).sum(), "loss")
    loss.backward()
    return loss
