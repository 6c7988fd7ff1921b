"""Neural networks: ``Module``, layers, losses, initialisation, and ``functional``.

Names, parameter shapes, ``state_dict`` keys and default initialisations
follow PyTorch's ``torch.nn``, so weights copy across in either direction.

>>> import chainrule as cr
>>> from chainrule import nn
>>> model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
>>> loss = nn.CrossEntropyLoss()(model(cr.randn(8, 64)), [0, 1, 2, 3, 4, 5, 6, 7])
>>> loss.backward()
"""

from chainrule.nn import functional, init, parallel
from chainrule.nn.layers import (
    GELU,
    BatchNorm1d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    LayerNorm,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from chainrule.nn.loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from chainrule.nn.module import IncompatibleKeys, Module, Parameter

__all__ = [
    "GELU",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "IncompatibleKeys",
    "LayerNorm",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
    "parallel",
]
