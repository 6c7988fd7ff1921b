"""Save and load checkpoints in formats that never run code (never pickle).

``cr.save(obj, path)`` takes a state dict or a nested dict / list / tuple
of Tensors, arrays, numbers, strings, bools and None, a whole checkpoint::

    cr.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, "ckpt.npz")
    ckpt = cr.load("ckpt.npz")          # the same structure back

The file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays): one array
per Tensor or array, named by its place in the structure
(``"model/0.weight"``), and a JSON manifest, stored as bytes, that records
the structure, the numbers and strings. Loading uses
``np.load(allow_pickle=False)`` and ``json``, so a file can hold nothing but
plain arrays and text. Any program that reads ``.npz`` files can open it.

A path ending in ``.safetensors`` uses that format instead (a flat dict of
name -> tensor, with the ``safetensors`` package: ``pip install
'chainrule[safetensors]'``), so weights move to and from PyTorch and
Hugging Face tools.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import numpy as np
from numpy.typing import NDArray

from chainrule import backend
from chainrule.engine import Tensor

FORMAT_KEY = "__chainrule_format__"
MANIFEST_KEY = "__chainrule_manifest__"
FORMAT_VERSION = 2  # 1: a flat dict of arrays, no manifest (still read)
RESERVED = (FORMAT_KEY, MANIFEST_KEY)
KINDS = "dicts, lists, tuples, Tensors, arrays, numbers, strings, bools and None"
INSTALL_SAFETENSORS = "pip install 'chainrule[safetensors]'"

PathLike = str | os.PathLike[str]


def _where(path: tuple[Any, ...]) -> str:
    return "obj" + "".join(f"[{p!r}]" for p in path)


def _numeric(where: str, array: NDArray[Any]) -> NDArray[Any]:
    if array.dtype.kind not in "biufc":
        raise TypeError(f"save: {where} has dtype {array.dtype}; only numeric and bool arrays "
                        "can be saved")
    return array


class _Encoder:
    """Turns an object into a JSON manifest and a dict of named arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, NDArray[Any]] = {}
        self.open: set[int] = set()  # containers on the current path (a cycle is an error)

    def name(self, path: tuple[Any, ...]) -> str:
        name = "/".join(str(p) for p in path) or "obj"
        if name in self.arrays or name in RESERVED or name.startswith(RESERVED):
            name = f"#{len(self.arrays)}"
        return name

    def array(self, tag: str, array: NDArray[Any], path: tuple[Any, ...]) -> dict[str, Any]:
        name = self.name(path)
        self.arrays[name] = _numeric(_where(path), array)
        return {tag: name}

    def encode(self, obj: Any, path: tuple[Any, ...] = ()) -> Any:
        if isinstance(obj, np.generic):  # before float: np.float64 is a float
            return self.array("scalar", np.asarray(obj), path)
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, Tensor):
            node = self.array("tensor", backend.to_host(obj.data), path)  # a GPU tensor: copied
            return {**node, "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return self.array("array", obj, path)
        if backend.on_device(obj):  # a raw GPU array: written from a host copy, as a tensor's
            return self.array("array", backend.to_host(obj), path)
        if not isinstance(obj, (Mapping, list, tuple)):
            raise TypeError(f"save: {_where(path)} is a {type(obj).__name__}; a checkpoint "
                            f"holds only {KINDS}")
        if id(obj) in self.open:
            raise ValueError(f"save: {_where(path)} contains itself; it cannot be saved")
        self.open.add(id(obj))
        try:
            if isinstance(obj, Mapping):
                items = []
                for key, value in obj.items():
                    if isinstance(key, bool) or not isinstance(key, (str, int)):
                        raise TypeError(f"save: {_where(path)} has a key {key!r}; keys must be "
                                        "strings or ints")
                    items.append([key, self.encode(value, (*path, key))])
                return {"dict": items}
            tag = "list" if isinstance(obj, list) else "tuple"
            return {tag: [self.encode(v, (*path, i)) for i, v in enumerate(obj)]}
        finally:
            self.open.discard(id(obj))


def _decode(node: Any, arrays: Mapping[str, NDArray[Any]]) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict) and len(node) >= 1:
        if "dict" in node:
            return {key: _decode(value, arrays) for key, value in node["dict"]}
        if "list" in node:
            return [_decode(v, arrays) for v in node["list"]]
        if "tuple" in node:
            return tuple(_decode(v, arrays) for v in node["tuple"])
        if "float" in node:
            return float(node["float"])
        if "tensor" in node:
            return Tensor(arrays[node["tensor"]], requires_grad=bool(node["requires_grad"]))
        if "array" in node:
            return arrays[node["array"]]
        if "scalar" in node:
            return arrays[node["scalar"]][()]
    raise ValueError(f"unknown entry {node!r} in the manifest")


# ------------------------------------------------------------------ writing
def _write_atomically(path: PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through a temporary file, so an interrupted save leaves no half file."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp made it private; use the usual mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _is_safetensors(path: PathLike) -> bool:
    return Path(path).suffix.lower() == ".safetensors"


def save(obj: Any, path: PathLike) -> None:
    """Write ``obj`` (a state dict or a nested checkpoint) to ``path``.

    ``.safetensors`` paths take a flat dict of name -> Tensor/array; any
    other path gets chainrule's ``.npz`` format, written under exactly the
    name given (no suffix is added). The file is replaced atomically, so an
    interrupted save never leaves half a file. Anything that is not one of
    dicts, lists, tuples, Tensors, arrays, numbers, strings, bools and None
    is a ``TypeError`` naming where it is, before anything is written.
    """
    if _is_safetensors(path):
        _save_safetensors(obj, path)
        return
    encoder = _Encoder()
    manifest = json.dumps(encoder.encode(obj), allow_nan=False).encode()
    arrays = dict(encoder.arrays)
    arrays[FORMAT_KEY] = np.array(FORMAT_VERSION, dtype=np.int64)
    arrays[MANIFEST_KEY] = np.frombuffer(manifest, dtype=np.uint8)
    _write_atomically(path, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]


def _safetensors_numpy() -> Any:
    try:
        import safetensors.numpy
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            f".safetensors files need the safetensors package: {INSTALL_SAFETENSORS}"
        ) from None
    return safetensors.numpy


def _save_safetensors(obj: Any, path: PathLike) -> None:
    flat = "a .safetensors file holds a flat dict of name -> tensor"
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: {flat}, got a {type(obj).__name__}; save a checkpoint to a "
                        ".npz path instead")
    arrays = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"save: {flat}; the key {key!r} is not a non-empty string")
        if isinstance(value, (Mapping, list, tuple)):
            raise ValueError(
                f"save: {flat}, but obj[{key!r}] is a {type(value).__name__}; save the nested "
                "checkpoint to a .npz path (cr.save(obj, 'checkpoint.npz')), or only a model's "
                "state_dict() to .safetensors"
            )
        if not isinstance(value, (Tensor, np.ndarray)):
            raise TypeError(f"save: {flat}; obj[{key!r}] is a {type(value).__name__}")
        array = _numeric(f"obj[{key!r}]", np.asarray(
            backend.to_host(value.data) if isinstance(value, Tensor) else value))
        if array.dtype.kind == "c":
            raise TypeError(f"save: obj[{key!r}] is complex; .safetensors cannot store it")
        arrays[key] = np.ascontiguousarray(array)
    st = _safetensors_numpy()
    # "pt" tells Hugging Face tools the layout is PyTorch's, which it is
    data = st.save(arrays, metadata={"format": "pt"})
    _write_atomically(path, lambda f: f.write(data))


# ------------------------------------------------------------------ reading
def load(path: PathLike) -> Any:
    """Read a file written by :func:`save` and return the saved structure.

    Tensors come back as Tensors (with their ``requires_grad``), arrays as
    arrays, and dicts, lists, tuples, numbers, strings, bools and None as
    they were. A ``.safetensors`` file gives a dict of name -> Tensor.
    Raises ``FileNotFoundError`` when ``path`` does not exist and
    ``ValueError`` naming the path when it is not a readable file
    (corrupt, truncated, another format, or holding pickled objects).
    """
    target = Path(path)
    if not target.exists():
        raise FileNotFoundError(f"load: no such file: {str(target)!r}")
    if target.is_dir():
        raise IsADirectoryError(f"load: {str(target)!r} is a directory, not a saved file")
    if _is_safetensors(target):
        return _load_safetensors(target)
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
            arrays = {k: npz[k] for k in npz.files if k not in RESERVED}
            if version == 1:
                return arrays
            if MANIFEST_KEY not in npz.files:
                _unreadable(target, "its manifest is missing")
            manifest = json.loads(npz[MANIFEST_KEY].tobytes().decode())
        return _decode(manifest, arrays)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        if str(exc).startswith("load: "):
            raise
        if "pickle" in str(exc):
            _unreadable(target, "it holds pickled Python objects, which are never loaded")
        detail = str(exc) or type(exc).__name__
        _unreadable(target, f"the archive is corrupt or truncated ({detail})")


def _load_safetensors(target: Path) -> dict[str, Tensor]:
    st = _safetensors_numpy()
    try:
        arrays = st.load(target.read_bytes())
    except Exception as exc:  # the package raises its own error types
        _unreadable(target, f"it is not a readable .safetensors file ({exc})")
    return {name: Tensor(array) for name, array in arrays.items()}


def _unreadable(path: Path, problem: str) -> NoReturn:
    raise ValueError(f"load: cannot read {str(path)!r}: {problem}") from None

