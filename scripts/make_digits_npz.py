"""Rebuild ``src/chainrule/data/digits.npz`` from scikit-learn's copy of the digits.

Usage::

    pip download scikit-learn --no-deps -d WHEELDIR
    python scripts/make_digits_npz.py WHEELDIR/scikit_learn-*.whl

Only the wheel's ``sklearn/datasets/data/digits.csv.gz`` is read; scikit-learn
is neither imported nor installed.
"""

from __future__ import annotations

import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "sklearn/datasets/data/digits.csv.gz"
OUT = Path(__file__).resolve().parent.parent / "src" / "chainrule" / "data" / "digits.npz"


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as zf:
        text = gzip.decompress(zf.read(MEMBER)).decode("ascii")
    table = np.loadtxt(io.StringIO(text), delimiter=",")
    pixels = table[:, :64]
    if table.shape != (1797, 65) or pixels.min() < 0 or pixels.max() > 16:
        raise SystemExit(f"unexpected contents in {MEMBER}: shape {table.shape}")
    images = pixels.astype(np.uint8).reshape(-1, 8, 8)
    labels = table[:, 64].astype(np.int64)
    np.savez_compressed(OUT, images=images, labels=labels)
    print(f"wrote {OUT}: {len(labels)} images, counts {np.bincount(labels).tolist()}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
