"""chainrule: backpropagation you can see and check.

A scalar engine to learn the chain rule on (``Value``), a NumPy tensor
engine for real models (``Tensor``), forward and reverse mode with
composable transforms, pictures and explanations of any graph, and small
neural networks.

The operations on tensors are listed, with their formulas, in
``chainrule.ops.REGISTRY`` (``chainrule ops`` prints it).
"""

from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING, Any

from . import cuda, ops
from .backend import xp as _xp
from .engine import (
    Tensor,
    detect_anomaly,
    enable_grad,
    get_default_dtype,
    is_grad_enabled,
    no_grad,
    set_default_dtype,
    set_grad_enabled,
)
from .engine.factories import (
    arange,
    eye,
    full,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .engine.function import Context, Function
from .engine.functions import (
    abs,
    argmax,
    argmin,
    broadcast_to,
    clip,
    concatenate,
    cos,
    erf,
    exp,
    expand,
    flatten,
    fold2d,
    log,
    log1p,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    pad,
    permute,
    prod,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    tanh,
    transpose,
    unfold2d,
    unsqueeze,
    var,
    where,
)
from .errors import (
    AnomalyError,
    ChainruleError,
    DeviceError,
    GradcheckError,
    GraphError,
    GraphvizNotFoundError,
    ShapeError,
)
from .func import grad, hessian, jacfwd, jacrev, jvp, value_and_grad, vjp
from .gradcheck import gradcheck, gradgradcheck
from .scalar import Value

if TYPE_CHECKING:
    from . import data, distributed, nn, optim, viz
    from .explain import explain
    from .serialize import load, save

# Loaded on first use, so that ``import chainrule`` stays quick: cr.nn, cr.data, ...
_LAZY = {"data": "data", "distributed": "distributed", "nn": "nn", "optim": "optim", "viz": "viz",
         "explain": "explain",
         "save": "serialize", "load": "serialize"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = _importlib.import_module(f".{_LAZY[name]}", __name__)
        value = module if _LAZY[name] == name and name != "explain" else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


float32 = _xp.float32
float64 = _xp.float64

__version__ = "0.1.0"

__all__ = [
    "Value", "cuda", "data", "distributed", "explain", "func", "load", "nn", "ops", "optim", "save",
    "viz",
    "Context", "Function", "grad", "gradcheck", "gradgradcheck", "hessian", "jacfwd",
    "jacrev", "jvp", "value_and_grad", "vjp",
    "AnomalyError", "ChainruleError", "DeviceError", "GradcheckError", "GraphvizNotFoundError",
    "GraphError",
    "ShapeError", "detect_anomaly",
    "Tensor", "get_default_dtype", "set_default_dtype",
    "abs", "arange", "argmax", "argmin", "broadcast_to", "clip", "concatenate", "cos",
    "enable_grad", "erf", "exp", "expand", "eye", "flatten", "float32", "float64", "fold2d",
    "full", "is_grad_enabled", "log", "log1p", "log_softmax", "logsumexp", "manual_seed", "matmul",
    "max", "maximum", "mean", "min", "minimum", "no_grad", "ones", "ones_like", "pad",
    "permute", "prod", "rand", "randn", "relu", "reshape", "set_grad_enabled", "sigmoid",
    "sin", "softmax", "split", "sqrt", "squeeze", "stack", "std", "sum", "tanh", "tensor",
    "transpose", "unfold2d", "unsqueeze", "var", "where", "zeros", "zeros_like",
]
