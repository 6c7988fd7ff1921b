"""Neural networks: ``Module``, layers, losses, initialisation, and ``functional``.

Names, parameter shapes, ``state_dict`` keys and default initialisations
follow PyTorch's ``torch.nn``, so weights copy across in either direction.

>>> import chainrule as cr
>>> from chainrule import nn
>>> model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
>>> loss = nn.CrossEntropyLoss()(model(cr.randn(8, 64)), [0, 1, 2, 3, 4, 5, 6, 7])
>>> loss.backward()
"""

from chainrule.nn import functional, init, parallel, utils
from chainrule.nn.attention import MultiheadAttention, RMSNorm
from chainrule.nn.containers import ModuleDict, ModuleList, ParameterList, Sequential
from chainrule.nn.layers import (
    GELU,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from chainrule.nn.loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from chainrule.nn.module import IncompatibleKeys, Module, Parameter
from chainrule.nn.norm import BatchNorm1d, BatchNorm2d
from chainrule.nn.pooling import AvgPool2d, MaxPool2d

__all__ = [
    "GELU",
    "AvgPool2d",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiheadAttention",
    "NLLLoss",
    "Parameter",
    "ParameterList",
    "RMSNorm",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
    "parallel",
    "utils",
]
