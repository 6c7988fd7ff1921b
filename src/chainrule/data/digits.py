"""The 8x8 handwritten digits shipped with chainrule.

Source: the test set of the UCI Machine Learning Repository's "Optical
Recognition of Handwritten Digits" data set (E. Alpaydin and C. Kaynak, 1998;
https://archive.ics.uci.edu/dataset/80), in the copy that scikit-learn ships
as ``sklearn/datasets/data/digits.csv.gz`` (scikit-learn 1.9.1 wheel, file
SHA-256 ``09f66e6d...e51e23aa22``). The UCI repository publishes the data
under the Creative Commons Attribution 4.0 International licence (CC BY 4.0);
scikit-learn is BSD-3-Clause licensed.

The CSV (1,797 rows of 64 pixel counts in 0..16 followed by the label) was
converted once, without any other change, to ``digits.npz`` next to this
file: ``images`` uint8 of shape (1797, 8, 8) and ``labels`` int64 of shape
(1797,). ``scripts/make_digits_npz.py`` in the source repository redoes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import DTypeLike, NDArray

DIGITS_PATH = Path(__file__).with_name("digits.npz")


class Digits(NamedTuple):
    """What :func:`load_digits` returns; unpacks as ``X, y = load_digits()``."""

    X: NDArray[np.floating]
    y: NDArray[np.int64]


def load_digits(*, images: bool = False, dtype: DTypeLike = np.float32) -> Digits:
    """The 1,797 real 8x8 handwritten digits, 10 classes (about 180 each).

    Parameters
    ----------
    images : if False (default) ``X`` has shape ``(1797, 64)``, one flattened
        image per row, ready for a ``Linear`` layer; if True it has shape
        ``(1797, 1, 8, 8)`` (batch, channel, height, width) for ``Conv2d``.
    dtype : floating dtype of ``X`` (float32 by default, like a model's
        parameters).

    Returns
    -------
    ``Digits(X, y)``, a named tuple: ``X`` holds the pixel intensities scaled
    from 0..16 to [0, 1], ``y`` the int64 digit labels 0..9. The order is the
    file's order; split with :func:`chainrule.data.train_test_split`.

    Example
    -------
    >>> X, y = load_digits()
    >>> X.shape, X.dtype, y.shape, int(y.max())
    ((1797, 64), dtype('float32'), (1797,), 9)
    """
    dt = np.dtype(dtype)
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"load_digits: dtype must be a floating dtype, got {dt}")
    with np.load(DIGITS_PATH, allow_pickle=False) as npz:
        raw = npz["images"]
        labels = npz["labels"]
    X = raw.astype(dt) / dt.type(16)
    X = X.reshape(len(X), 1, 8, 8) if images else X.reshape(len(X), 64)
    return Digits(X, labels.astype(np.int64, copy=False))
