"""Independent numerical oracles: central differences computed here, in float64,
with no help from the engine's derivative machinery (only its forward pass)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import chainrule as cr

ArrayFn = Callable[..., np.ndarray]


def as_array_fn(fn: Callable[..., cr.Tensor], **params: object) -> ArrayFn:
    """``fn`` as a function from float64 arrays to a float64 array, run without a graph."""

    def f(*arrays: np.ndarray) -> np.ndarray:
        with cr.no_grad():
            out = fn(*(cr.tensor(a) for a in arrays), **params)
        return np.asarray(out.data, dtype=np.float64)

    return f


def vjp(f: ArrayFn, arrays: Sequence[np.ndarray], v: np.ndarray, eps: float = 1e-6
        ) -> list[np.ndarray]:
    """d <v, f(x)> / d x_i for each input, by central differences element by element."""
    xs = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for x in xs:
        g = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            keep = x[j]
            x[j] = keep + eps
            plus = np.sum(f(*xs) * v)
            x[j] = keep - eps
            minus = np.sum(f(*xs) * v)
            x[j] = keep
            g[j] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def jvp(f: ArrayFn, arrays: Sequence[np.ndarray], tangents: Sequence[np.ndarray],
        eps: float = 1e-6) -> np.ndarray:
    """The directional derivative of ``f`` along ``tangents``, by central differences."""
    plus = f(*(a + eps * t for a, t in zip(arrays, tangents, strict=True)))
    minus = f(*(a - eps * t for a, t in zip(arrays, tangents, strict=True)))
    return (plus - minus) / (2 * eps)
