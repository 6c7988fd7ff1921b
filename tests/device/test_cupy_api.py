"""Every NumPy function the engine can call on a GPU array exists in CuPy.

On a GPU array, ``numpy.NAME(a)`` runs ``cupy.NAME`` (NumPy hands the call over), and
the test double only runs names of CuPy's documented API (``cupy_api.txt``, from CuPy's
reference pages). The double sees only the code the tests run; this test reads all of
it: every ``np.NAME`` / ``xp.NAME`` / ``numpy.NAME`` in the parts of chainrule that
handle device arrays must be in CuPy's API, or be one of the few host-only uses below.
"""

from __future__ import annotations

import ast
from pathlib import Path

from . import fakecupy

SRC = Path(__file__).resolve().parents[2] / "src" / "chainrule"
# the parts whose arrays may live on a GPU
DEVICE_PARTS = ["backend.py", "ops", "engine", "nn", "optim", "func.py", "gradcheck.py",
                "serialize.py", "models.py", "train.py"]
NUMPY_NAMES = {"np", "numpy", "xp"}
# names that are not functions on arrays: CuPy uses NumPy's own dtypes and scalar types
TYPES = {"bool_", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
         "uint8", "intp", "integer", "floating", "number", "generic", "ndarray", "dtype",
         "complexfloating", "inf", "nan", "pi", "e", "newaxis", "finfo", "iinfo",
         "promote_types", "can_cast", "issubdtype", "AxisError",
         # submodules: their functions are checked as random.NAME, linalg.NAME
         "typing", "random", "linalg", "fft", "lib", "exceptions"}
# names used only on the host, each with why
HOST_ONLY = {
    "frompyfunc": "backend.erf without SciPy, only for NumPy arrays (a GPU uses cupyx)",
    "errstate": "never on a GPU: NumPy's floating-point error state only",
    "result_type": "dtype arithmetic on dtypes, never on arrays",
    "broadcast_shapes": "arithmetic on shapes (tuples), never on arrays",
}
# NumPy's short names whose CuPy function the reference pages list under its long name
ALIASES = {"abs": "absolute"}


def _files() -> list[Path]:
    out: list[Path] = []
    for part in DEVICE_PARTS:
        path = SRC / part
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


def _numpy_names(path: Path) -> set[tuple[str, int]]:
    """(qualified name, line) of every ``np.NAME`` (and ``np.random.NAME``, ...) used."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in NUMPY_NAMES:
                found.add((node.attr, node.lineno))
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
              and isinstance(node.value.value, ast.Name) and node.value.value.id in NUMPY_NAMES
              and node.value.attr in ("random", "linalg", "fft")):
            found.add((f"{node.value.attr}.{node.attr}", node.lineno))
    return found


def test_every_numpy_function_of_the_device_code_exists_in_cupy() -> None:
    missing = []
    for path in _files():
        for name, line in sorted(_numpy_names(path)):
            if name in TYPES or name.split(".")[0] in HOST_ONLY:
                continue
            if f"cupy.{ALIASES.get(name, name)}" not in fakecupy.API:
                missing.append(f"{path.relative_to(SRC)}:{line}: numpy.{name}")
    assert not missing, "not in CuPy's API:\n" + "\n".join(missing)


def test_the_scan_finds_what_it_looks_for() -> None:
    names = {n for n, _ in _numpy_names(SRC / "backend.py")}
    assert {"exp", "maximum", "pad"} <= names
    assert {n for n, _ in _numpy_names(SRC / "engine" / "factories.py")} & {"random.default_rng"}
    assert "cupy.exp" in fakecupy.API and "cupy.errstate" not in fakecupy.API
