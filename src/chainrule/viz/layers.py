"""Which layer made which tensor: the modules a graph was built with, and their names.

``nn.Module.__call__`` notes on the tensor a call returns which module made it
and where the call began (a creation number, see ``engine/base.py``); it
costs one small tuple per module call and nothing per op. Reading it back, at
drawing time, gives the parameters their names from the model
(``fc1.weight``), the modules' outputs a name (``fc1.out``), and the ops each
call made, so pictures can group them and explanations can walk layer by layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

NOTE = "modules"  # the key under which a module call notes itself on its output's _extra


@dataclass
class Call:
    """One call of a module while the graph was built."""

    module: Any
    path: str  # its name in the model ("fc1", "0", "" for the model itself)
    title: str  # how pictures and words name it: "fc1: Linear(3 → 2)"
    output: int  # the node it returned
    members: list[int] = field(default_factory=list)  # the nodes it made, inputs first
    params: list[int] = field(default_factory=list)  # its parameters' nodes
    ident: str = ""  # unique id for pictures


@dataclass
class Layers:
    """The module calls of a graph (innermost calls only), and names for nodes."""

    calls: list[Call]
    layer_of: dict[int, int]  # node index -> index in calls of the innermost call that made it
    names: dict[int, str]  # node index -> a name from the model (parameters, outputs)


def _notes(obj: Any) -> Sequence[tuple[Any, int]]:
    extra = getattr(obj, "_extra", None)
    if not extra:
        return ()
    notes: Sequence[tuple[Any, int]] = extra.get(NOTE, ())
    return notes


def read_layers(objs: Sequence[Any], inputs: Sequence[Sequence[int]]) -> Layers:
    """The module calls behind the traced nodes ``objs`` (with their ``inputs``)."""
    raw: list[tuple[Any, int, int]] = []  # (module, start, output node), innermost first
    for i, obj in enumerate(objs):
        for module, start in _notes(obj):
            raw.append((module, start, i))
    if not raw:
        return Layers([], {}, {})
    modules = list({id(m): m for m, _, _ in raw}.values())
    paths, param_names = _model_names(modules)
    # the nodes each call made: below its output, made after the call began (creation
    # numbers count down); a raw constant belongs to the call that used it
    seqs = [getattr(o, "_seq", -(1 << 62)) for o in objs]
    spans: list[set[int]] = []
    for _, start, out in raw:
        inside = {out}
        todo = [out]
        while todo:
            for k in inputs[todo.pop()]:
                if k not in inside and seqs[k] < start:
                    inside.add(k)
                    todo.append(k)
        spans.append(inside)
    innermost: dict[int, int] = {}  # node -> the smallest call holding it
    for c, inside in enumerate(spans):
        for j in inside:
            old = innermost.get(j)
            if old is None or len(spans[old]) > len(inside):
                innermost[j] = c
    recorded = {id(m) for m in modules}
    calls: list[Call] = []
    renumber: dict[int, int] = {}
    for c in sorted(set(innermost.values())):
        module, _, out = raw[c]
        if any(id(sub) in recorded for path, sub in module.named_modules() if path):
            continue  # a container's own glue ops (between its layers) get no box
        renumber[c] = len(calls)
        calls.append(Call(module, paths[id(module)], _title(module, paths[id(module)]), out))
    layer_of = {j: renumber[c] for j, c in innermost.items() if c in renumber}
    for j in sorted(layer_of):
        calls[layer_of[j]].members.append(j)
    index_of = {id(o): i for i, o in enumerate(objs)}
    names = {index_of[id(p)]: name for name, p in param_names if id(p) in index_of}
    seen: dict[str, int] = {}
    for call in calls:
        used = {k for j in call.members for k in inputs[j]}
        call.params = sorted(
            index_of[id(p)] for _, p in _named_params(call.module)
            if id(p) in index_of and index_of[id(p)] in used
        )
        base = _output_name(call)
        seen[base] = seen.get(base, 0) + 1
        suffix = "" if seen[base] == 1 else str(seen[base])
        names.setdefault(call.output, base + suffix)
        call.ident = "layer_" + (call.path or type(call.module).__name__).replace(".", "_")
        call.ident += f"_{suffix}" if suffix else ""
    return Layers(calls, layer_of, names)


def _named_params(module: Any) -> list[tuple[str, Any]]:
    named = getattr(module, "named_parameters", None)
    return list(named()) if named is not None else []


def _model_names(modules: list[Any]) -> tuple[dict[int, str], list[tuple[str, Any]]]:
    """A path for every module (relative to the model that holds it) and a name for
    every parameter: PyTorch's ``named_modules`` / ``named_parameters`` names."""
    inside: set[int] = set()
    for m in modules:
        for path, sub in m.named_modules():
            if path:
                inside.add(id(sub))
    roots = [m for m in modules if id(m) not in inside]
    with_params = [r for r in roots if _named_params(r)]
    paths: dict[int, str] = {}
    params: list[tuple[str, Any]] = []
    kinds: dict[str, int] = {}
    for r in roots:
        kinds[type(r).__name__] = kinds.get(type(r).__name__, 0) + 1
    taken: dict[str, int] = {}
    for r in roots:
        prefix = ""
        if len(with_params) > 1 and r in with_params:  # several models: name each by its class
            kind = type(r).__name__
            taken[kind] = taken.get(kind, 0) + 1
            prefix = kind.lower() + (str(taken[kind]) if kinds[kind] > 1 else "")
        for path, sub in r.named_modules():
            full = ".".join(p for p in (prefix, path) if p)
            paths.setdefault(id(sub), full)
        for name, p in _named_params(r):
            params.append((f"{prefix}.{name}" if prefix else name, p))
    return paths, params


def _title(module: Any, path: str) -> str:
    kind = type(module).__name__
    described = kind
    fan_in, fan_out = getattr(module, "in_features", None), getattr(module, "out_features", None)
    if isinstance(fan_in, int) and isinstance(fan_out, int):
        described = f"{kind}({fan_in} → {fan_out})"
    return f"{path}: {described}" if path else described


def _output_name(call: Call) -> str:
    if type(call.module).__name__.endswith("Loss") and not call.path:
        return "loss"
    return f"{call.path}.out" if call.path else f"{type(call.module).__name__.lower()}.out"


def is_loss(module: Any) -> bool:
    return type(module).__name__.endswith("Loss")


ACTIVATIONS = {"Sigmoid", "Tanh", "ReLU", "GELU", "LeakyReLU", "Softmax", "LogSoftmax", "ELU",
               "SiLU", "Softplus"}


def is_activation(module: Any) -> bool:
    return type(module).__name__ in ACTIVATIONS
