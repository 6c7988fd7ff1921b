"""Imports flow one way: graph ← engines ← transforms ← nn/optim, with the pictures
and the command line at the edge. Every import in ``src/`` that runs is parsed
(those inside functions too; not those under ``if TYPE_CHECKING:``) and checked
against the layers below."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "chainrule"

# The rank of each part of the package: a module may import from parts of a
# lower rank, and from its own part; never from a part of the same or a higher rank.
LAYERS: dict[str, int] = {
    "errors": 0, "graph": 0,
    "backend": 1,  # the array libraries: NumPy, and CuPy on a GPU
    "ops": 2, "scalar": 2,  # the two engines' foundations: op tables on arrays, Value
    "engine": 3,  # Tensor, recording, the sweeps
    "func": 4, "gradcheck": 4,  # transforms
    "cuda": 2,  # is a GPU there?
    "distributed": 4,  # MPI: collectives on arrays and Tensors
    "nn": 5, "data": 5, "serialize": 5, "micro": 5,
    "optim": 6,
    "plots": 7, "models": 7, "runs": 7, "train": 8,
    "viz": 9, "lm": 9,  # the GPT on names uses train's helpers
    "explain": 10,
    "cli": 11,
    "__init__": 12, "__main__": 12,
}
# Edges that reach up on purpose, each imported lazily where it is used.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("scalar", "viz"): "a Value draws itself in a notebook (_repr_markdown_)",
    ("engine", "viz"): "a Tensor draws itself in a notebook",
}
# Inside the tensor engine and the op tables, the modules are ordered too.
INNER: dict[str, dict[str, int]] = {
    "ops": {"_util": 0, "op": 0, "elementwise": 1, "reduce": 1, "shape": 1, "linalg": 1,
            "conv": 1, "traced": 2, "__init__": 3},
    "engine": {"mode": 0, "base": 0, "anomaly": 1, "forward": 1, "sweep": 2, "numpy_bridge": 1,
               "record": 3,
               "in_place": 4, "tensor": 5, "functions": 6, "function": 6, "factories": 6,
               "__init__": 7},
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    return ".".join(rel.parts)


def _type_checking_only(tree: ast.AST) -> set[int]:
    """The ids of the import nodes inside ``if TYPE_CHECKING:`` (they never run)."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            ids |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return ids


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in the file that runs, relative ones
    resolved."""
    tree = ast.parse(path.read_text(), str(path))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    skip = _type_checking_only(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = [a.name for a in node.names if _is_module(f"{target}.{a.name}")]
            if submodules:  # "from . import mode": the module .mode
                found += [(node.lineno, f"{target}.{a}") for a in submodules]
            else:  # "from .tensor import Tensor": the module .tensor
                found.append((node.lineno, target))
    return found


def _is_module(name: str) -> bool:
    parts = name.split(".")
    if parts[0] != "chainrule":
        return False
    path = SRC.joinpath(*parts[1:])
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _part(module: str) -> tuple[str, str] | None:
    """(part, module inside it) of a chainrule module; None for anything else."""
    parts = module.split(".")
    if parts[0] != "chainrule":
        return None
    if len(parts) == 1:
        return "__init__", ""
    return parts[1], (parts[2] if len(parts) > 2 else "__init__")


def _violations() -> list[str]:
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        here = _part(_module_name(path))
        assert here is not None
        part, inner = here
        assert part in LAYERS, f"{path}: add {part!r} to LAYERS"
        for line, module in _imports(path):
            there = _part(module)
            if there is None or (there[0] == "__init__" and part != "__init__"):
                if there is not None:
                    bad.append(f"{path.name}:{line} imports the top-level package")
                continue
            other, other_inner = there
            if other not in LAYERS:
                continue  # "from . import x" where x is a name, not a module
            if other == part:
                order = INNER.get(part)
                if order and other_inner in order and order[other_inner] >= order[inner] \
                        and other_inner != inner:
                    bad.append(f"{part}/{path.name}:{line} imports {module}, which is not below it")
            elif LAYERS[other] >= LAYERS[part] and (part, other) not in EXCEPTIONS:
                bad.append(f"{part}/{path.name}:{line} imports {module} ({other} is not below "
                           f"{part})")
    return bad


def test_imports_flow_one_way() -> None:
    assert _violations() == []


def test_the_check_sees_a_backward_import(tmp_path: Path, monkeypatch: object) -> None:
    """The parser finds an upward import, even one inside a function."""
    source = "def f():\n    from ..engine.tensor import Tensor\n"
    path = SRC / "ops" / "_probe_for_test.py"
    try:
        path.write_text(source)
        assert any("_probe_for_test.py" in v for v in _violations())
    finally:
        path.unlink()


def test_ops_never_import_tensor() -> None:
    for path in (SRC / "ops").glob("*.py"):
        assert not any(m.startswith("chainrule.engine") for _, m in _imports(path)), path
