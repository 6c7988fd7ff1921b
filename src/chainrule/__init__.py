"""chainrule: backpropagation you can see and check.

A scalar engine to learn the chain rule on (``Value``), a NumPy tensor
engine for real models (``Tensor``), forward and reverse mode with
composable transforms, pictures and explanations of any graph, and small
neural networks.
"""

from __future__ import annotations

from . import (
    data,
    distributed,
    nn,
    ops,
    optim,
    viz,
)
from .backend import xp as _xp
from .errors import ChainruleError, GradcheckError, GraphError, GraphvizNotFoundError, ShapeError
from .explain import explain
from .factories import (
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
from .func import grad, hessian, jacfwd, jacrev, jvp, value_and_grad, vjp
from .function import Context, Function
from .gradcheck import gradcheck, gradgradcheck
from .ops.conv import fold2d, unfold2d
from .ops.elementwise import abs_ as abs
from .ops.elementwise import clip, where
from .ops.elementwise import cos_ as cos
from .ops.elementwise import erf_ as erf
from .ops.elementwise import exp_ as exp
from .ops.elementwise import log_ as log
from .ops.elementwise import maximum_ as maximum
from .ops.elementwise import minimum_ as minimum
from .ops.elementwise import relu_ as relu
from .ops.elementwise import sigmoid_ as sigmoid
from .ops.elementwise import sin_ as sin
from .ops.elementwise import sqrt_ as sqrt
from .ops.elementwise import tanh_ as tanh
from .ops.linalg import matmul
from .ops.reduce import (
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    prod,
    softmax,
    std,
    sum,
    var,
)
from .ops.shape import (
    broadcast_to,
    concatenate,
    expand,
    flatten,
    pad,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from .scalar import Value
from .serialize import load, save
from .tensor import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled

float32 = _xp.float32
float64 = _xp.float64

__version__ = "0.1.0"

__all__ = [
    "Value", "data", "distributed", "explain", "func", "load", "nn", "optim", "save", "viz",
    "Context", "Function", "grad", "gradcheck", "gradgradcheck", "hessian", "jacfwd",
    "jacrev", "jvp", "value_and_grad", "vjp",
    "ChainruleError", "GradcheckError", "GraphvizNotFoundError", "GraphError", "ShapeError",
    "Tensor",
    "abs", "arange", "broadcast_to", "clip", "concatenate", "cos", "enable_grad", "erf",
    "exp", "expand", "eye", "flatten", "float32", "float64", "fold2d", "full",
    "is_grad_enabled", "log", "log_softmax", "logsumexp", "manual_seed", "matmul", "max",
    "maximum", "mean", "min", "minimum", "no_grad", "ones", "ones_like", "ops", "pad",
    "permute", "prod", "rand", "randn", "relu", "reshape", "set_grad_enabled", "sigmoid",
    "sin", "softmax", "split", "sqrt", "squeeze", "stack", "std", "sum", "tanh", "tensor",
    "transpose", "unfold2d", "unsqueeze", "var", "where", "zeros", "zeros_like",
]
