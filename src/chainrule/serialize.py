"""Save and load state dicts (name -> array) in a format that never runs code.

The file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) with one
extra entry that marks it as chainrule's; loading uses
``np.load(allow_pickle=False)``, so a file can hold nothing but plain arrays.
Any other program that reads ``.npz`` files can open it.

Example
-------
>>> cr.save(model.state_dict(), "model.npz")               # doctest: +SKIP
>>> model.load_state_dict(cr.load("model.npz"))             # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

FORMAT_KEY = "__chainrule_format__"
FORMAT_VERSION = 1

PathLike = str | os.PathLike[str]


def _as_array(key: str, value: Any) -> NDArray[Any]:
    data = getattr(value, "data", value)
    array = np.asarray(data)
    if array.dtype == object or array.dtype.kind not in "biufc":
        raise TypeError(
            f"save: entry {key!r} has dtype {array.dtype}; only numeric arrays and Tensors "
            "can be saved"
        )
    return array


def save(state_dict: Mapping[str, Any], path: PathLike) -> None:
    """Write ``state_dict`` (names to Tensors or arrays) to ``path`` as a chainrule ``.npz``.

    The file is written under exactly the name given (no suffix is added) and
    replaced atomically, so an interrupted save never leaves half a file.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"save: expected a dict of name -> array, got {type(state_dict).__name__}")
    arrays: dict[str, NDArray[Any]] = {}
    for key, value in state_dict.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"save: keys must be non-empty strings, got {key!r}")
        if key == FORMAT_KEY:
            raise ValueError(f"save: the key {FORMAT_KEY!r} is reserved")
        arrays[key] = _as_array(key, value)
    arrays[FORMAT_KEY] = np.array(FORMAT_VERSION, dtype=np.int64)
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp made it private; use the usual mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def load(path: PathLike) -> dict[str, NDArray[Any]]:
    """Read a file written by :func:`save` and return its ``{name: ndarray}`` dict.

    Raises ``FileNotFoundError`` when ``path`` does not exist and
    ``ValueError`` naming the path when it is not a readable chainrule file
    (corrupt, truncated, another format, or holding pickled objects).
    """
    target = Path(path)
    if not target.exists():
        raise FileNotFoundError(f"load: no such file: {str(target)!r}")
    if target.is_dir():
        raise IsADirectoryError(f"load: {str(target)!r} is a directory, not a saved state dict")
    with open(target, "rb") as f:
        magic = f.read(6)
    if magic == b"\x93NUMPY":
        _unreadable(target, "it holds a single .npy array, not a saved state dict")
    if not magic.startswith(b"PK\x03\x04"):
        _unreadable(target, "it is not an .npz archive")
    try:
        with np.load(target, allow_pickle=False) as npz:
            if FORMAT_KEY not in npz.files:
                _unreadable(
                    target,
                    "it is an .npz archive but not one written by chainrule.save "
                    f"(no {FORMAT_KEY!r} entry)",
                )
            version = int(npz[FORMAT_KEY])
            if version > FORMAT_VERSION:
                _unreadable(
                    target,
                    f"it was written in format version {version}, newer than this "
                    f"chainrule reads ({FORMAT_VERSION}); upgrade chainrule",
                )
            return {k: npz[k] for k in npz.files if k != FORMAT_KEY}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        if str(exc).startswith("load: "):
            raise
        if "pickle" in str(exc):
            _unreadable(target, "it holds pickled Python objects, which are never loaded")
        detail = str(exc) or type(exc).__name__
        _unreadable(target, f"the archive is corrupt or truncated ({detail})")


def _unreadable(path: Path, problem: str) -> NoReturn:
    raise ValueError(f"load: cannot read {str(path)!r}: {problem}") from None
