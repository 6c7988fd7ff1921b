"""``chainrule ops``: every operation of the tensor engine with its formulas, a reference card."""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli._common import fail, one_line_errors

HEADER = """\
chainrule's operations: each is a forward computation y = f(x) and the rule
that turns g = ∂L/∂y, the gradient arriving at its output, into ∂L/∂x for each
input (a vector-Jacobian product: no Jacobian is built). Inputs that were
broadcast get their gradient summed back to their shape by the engine.
A composite is built from the primitives, so it needs no rule of its own."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "ops",
        help="list every operation with its forward and derivative formulas",
        description="Print the registry of operations (chainrule.ops.REGISTRY): names, "
        "the function and Tensor methods that run each, and its formulas.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="only these operations (default: all)")
    parser.add_argument("--family", choices=FAMILIES,
                        help="only one family of operations")
    parser.set_defaults(func=run)
    one_line_errors(parser)
    return parser


FAMILIES = ("elementwise", "reduce", "shape", "linalg", "conv")
# how an operator method is written
SPELLED = {
    "__neg__": "-t", "__abs__": "abs(t)", "__getitem__": "t[index]",
    "__add__": "t + u", "__radd__": "u + t", "__sub__": "t - u", "__rsub__": "u - t",
    "__mul__": "t * u", "__rmul__": "u * t", "__truediv__": "t / u", "__rtruediv__": "u / t",
    "__pow__": "t ** u", "__rpow__": "u ** t", "__matmul__": "t @ u", "__rmatmul__": "u @ t",
}


def card(names: list[str] | None = None, family: str | None = None) -> str:
    """The reference card as text."""
    from chainrule.ops import REGISTRY

    entries = [info for info in REGISTRY.values()
               if (not names or info.name in names) and (family is None or info.family == family)]
    lines = [HEADER]
    for fam in (f for f in FAMILIES if any(i.family == f for i in entries)):
        lines += ["", f"== {fam} (chainrule/ops/{fam}.py)"]
        for info in (i for i in entries if i.family == fam):
            calls = ([f"cr.{info.function}(...)"] if info.function else []) + [
                SPELLED.get(m, f"t.{m}" if m in ("T", "mT") else f"t.{m}(...)")
                for m in info.methods]
            kind = "" if info.op is not None else "  [composite]"
            lines.append(f"{info.name}{kind}")
            lines.append(f"    {info.formula}")
            if calls:
                lines.append(f"    run by: {', '.join(calls)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from chainrule.ops import REGISTRY

    unknown = [n for n in args.names if n not in REGISTRY]
    if unknown:
        fail(f"chainrule ops: error: no operation named {', '.join(map(repr, unknown))}; "
             "run 'chainrule ops' for the list")
    print(card(args.names or None, args.family))
    return 0
