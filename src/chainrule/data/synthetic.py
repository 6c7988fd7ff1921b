"""Small synthetic classification sets that fit on a plot.

Each generator takes ``seed=`` and draws from its own
:class:`numpy.random.Generator`, so the same seed always gives the same
points and never disturbs NumPy's global random state.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def _check_count(name: str, n: int, minimum: int) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{name}: n must be an integer >= {minimum}, got {n!r}")


def _check_noise(name: str, noise: float) -> None:
    if not noise >= 0:  # also rejects NaN
        raise ValueError(f"{name}: noise must be >= 0, got {noise!r}")


def make_moons(
    n: int = 200, noise: float = 0.1, seed: int | None = None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Two interleaving half circles, the classic two-class toy problem.

    Parameters
    ----------
    n : total number of points; the first moon gets ``n - n // 2`` of them.
    noise : standard deviation of the Gaussian noise added to every point.
    seed : seed of the generator; the same seed gives the same points.

    Returns
    -------
    ``(X, y)``: ``X`` float64 of shape ``(n, 2)``, ``y`` int64 labels in
    ``{0, 1}``. Points are in class order (all of class 0 first); shuffle or
    use ``DataLoader(..., shuffle=True)`` when training.

    Example
    -------
    >>> X, y = make_moons(100, noise=0.1, seed=0)
    >>> X.shape, y.shape, sorted(set(y.tolist()))
    ((100, 2), (100,), [0, 1])
    """
    _check_count("make_moons", n, 2)
    _check_noise("make_moons", noise)
    rng = np.random.default_rng(seed)
    n_outer = n - n // 2
    n_inner = n // 2
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n_inner)
    outer = np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1)
    inner = np.stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1)
    X = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    if noise > 0:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return X, y


def make_spirals(
    n: int = 300, classes: int = 3, noise: float = 0.2, seed: int | None = None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Interleaved spiral arms, one per class (not linearly separable).

    Parameters
    ----------
    n : total number of points, shared as evenly as possible between classes
        (the first ``n % classes`` classes get one extra point).
    classes : number of arms, each a class.
    noise : standard deviation of the Gaussian noise added to each point's
        angle (in radians); the radius runs from 0 to 1 along each arm.
    seed : seed of the generator; the same seed gives the same points.

    Returns
    -------
    ``(X, y)``: ``X`` float64 of shape ``(n, 2)`` inside the unit disc (up to
    noise), ``y`` int64 labels ``0 .. classes - 1`` in class order.

    Example
    -------
    >>> X, y = make_spirals(90, classes=3, seed=0)
    >>> X.shape, int((y == 0).sum())
    ((90, 2), 30)
    """
    _check_count("make_spirals", n, 1)
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 1:
        raise ValueError(f"make_spirals: classes must be an integer >= 1, got {classes!r}")
    if n < classes:
        raise ValueError(f"make_spirals: n={n} is smaller than classes={classes}")
    _check_noise("make_spirals", noise)
    rng = np.random.default_rng(seed)
    counts = np.full(classes, n // classes)
    counts[: n % classes] += 1
    y = np.repeat(np.arange(classes, dtype=np.int64), counts)
    # position along each arm, 0 at the centre and 1 at the tip
    s = np.concatenate([np.linspace(0.0, 1.0, int(c)) for c in counts])
    angle = 4.0 * s + y * (2.0 * np.pi / classes) + rng.normal(0.0, 1.0, n) * noise
    X = np.stack([s * np.sin(angle), s * np.cos(angle)], axis=1)
    return X, y
