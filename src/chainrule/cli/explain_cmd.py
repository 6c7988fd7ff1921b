"""``chainrule explain``: the graph and the chain rule for a small expression.

    chainrule explain "L = (a + b) * d" a=3 b=2 d=4
    chainrule explain "x = 5; y = x + 2; z = x * 3; L = y * z" --html steps.html

It prints the graph as an outline a terminal shows and as Mermaid source
(``--graph`` picks), then the chain rule step by step; ``--html PATH`` also
writes a page that steps through the backward pass (open it in a browser).

Statements are separated by ``;`` or newlines. Each assigned name labels its
node (``x = 5`` makes an input), and the last statement's target is the root.
The text is parsed with ``ast`` and only a whitelist is evaluated: numbers,
names, ``+ - * / **``, unary minus and calls of exp, log, tanh, sigmoid,
relu, sin, cos, sqrt and abs. Nothing is ever passed to ``eval``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Callable
from typing import Any

from ..explain import explain
from ..scalar import Value, constant
from ..viz import mermaid, save_html, text

FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "sqrt", "abs")
ALLOWED = "use numbers, names, + - * / **, unary - and calls of " + ", ".join(FUNCTIONS)
_OPERATORS: dict[type, Callable[[Value, Value], Value]] = {
    ast.Add: Value.__add__,
    ast.Sub: Value.__sub__,
    ast.Mult: Value.__mul__,
    ast.Div: Value.__truediv__,
}
_NOT_ALLOWED = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.Lambda: "a lambda",
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.BinOp: "this operator",
    ast.UnaryOp: "this operator",
    ast.Call: "this call",
    ast.IfExp: "a conditional expression",
    ast.NamedExpr: "an assignment expression",
    ast.JoinedStr: "an f-string",
    ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.Set: "a set",
    ast.Starred: "unpacking",
}


class InputError(Exception):
    """Input that cannot be explained, with the text and column where it goes wrong."""

    def __init__(self, message: str, text: str = "", column: int | None = None, line: int = 1):
        super().__init__(message)
        self.message, self.text, self.column, self.line = message, text, column, line

    def report(self) -> str:
        if self.column is None:
            return f"chainrule explain: error: {self.message}"
        where = f"line {self.line}, column {self.column + 1}"
        if self.line == 1:
            where = f"column {self.column + 1}"
        return (
            f"chainrule explain: error at {where}: {self.message}\n"
            f"  {self.text}\n  {' ' * self.column}^"
        )


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="print the graph (Mermaid) and the chain rule step by step for an expression",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("expression", help='statements, e.g. "L = (a + b) * d"')
    parser.add_argument("values", nargs="*", metavar="NAME=VALUE", help="the inputs, e.g. a=3")
    parser.add_argument(
        "--graph", choices=("text", "mermaid", "both", "none"), default="both",
        help="how to print the graph: an outline for the terminal, Mermaid source, both "
        "(the default) or none",
    )
    parser.add_argument(
        "--html", metavar="PATH", help="also write a page that steps through the backward pass"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        root = evaluate(args.expression, parse_values(args.values))
    except InputError as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    root.backward()
    if args.graph in ("text", "both"):
        print(text(root))
    if args.graph in ("mermaid", "both"):
        print(f"```mermaid\n{mermaid(root)}\n```\n")
    print(explain(root), end="")
    if args.html:
        try:
            path = save_html(root, args.html)
        except OSError as exc:
            print(f"chainrule explain: error: cannot write {args.html}: {exc.strerror}",
                  file=sys.stderr)
            return 1
        print(f"\nWrote {path}: open it in a browser to step through the backward pass.")
    return 0


def parse_values(pairs: list[str]) -> dict[str, float]:
    """``["a=3", "b=-2.5"]`` → ``{"a": 3.0, "b": -2.5}``."""
    values: dict[str, float] = {}
    for pair in pairs:
        name, sep, number = pair.partition("=")
        if not sep or not name.isidentifier():
            raise InputError(f"expected NAME=VALUE, like a=3, got {pair!r}", pair, 0)
        if name in values:
            raise InputError(f"{name} is given twice", pair, 0)
        try:
            values[name] = float(number)
        except ValueError:
            raise InputError(
                f"the value of {name} must be a number, got {number!r}", pair, len(name) + 1
            ) from None
    return values


def evaluate(source: str, inputs: dict[str, float]) -> Value:
    """The graph that the statements in ``source`` build from ``inputs``; returns the root."""
    lines = source.splitlines() or [""]
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        line = exc.lineno or 1
        raise InputError(
            f"invalid syntax ({exc.msg})", lines[line - 1], max((exc.offset or 1) - 1, 0), line
        ) from None
    if not tree.body:
        raise InputError('nothing to explain; write e.g. "L = (a + b) * d" a=3 b=2 d=4')
    reader = _Reader(lines, {name: Value(v, label=name) for name, v in inputs.items()})
    for statement in tree.body:
        root = reader.statement(statement)
    return root


class _Reader:
    """Evaluates the whitelisted part of Python's grammar, one statement at a time."""

    def __init__(self, lines: list[str], env: dict[str, Value]) -> None:
        self.lines, self.env = lines, env

    def error(self, node: ast.AST, message: str) -> InputError:
        lineno: int = getattr(node, "lineno", 1)
        text = self.lines[lineno - 1]
        offset = getattr(node, "col_offset", 0)
        if isinstance(node, ast.Attribute) and node.end_col_offset is not None:
            offset = node.end_col_offset - len(node.attr) - 1  # at the dot
        # ast counts columns in UTF-8 bytes; the caret needs characters
        column = len(text.encode()[:offset].decode(errors="ignore"))
        return InputError(message, text, column, lineno)

    def statement(self, node: ast.stmt) -> Value:
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            if isinstance(node, ast.Expr):
                kind = "an expression on its own"
            else:
                kind = _NOT_ALLOWED.get(type(node), "this statement")
            raise self.error(
                node, f'{kind} is not allowed; each statement assigns one name, like "L = a * 2"'
            )
        target = node.targets[0]
        if target.id in self.env:
            raise self.error(target, f"{target.id} already has a value; use a new name")
        if target.id in FUNCTIONS:
            raise self.error(target, f"{target.id} is a function name; use another name")
        value = self.expression(node.value)
        if value.is_const:  # x = 5: an input named x
            value = Value(value.data)
        elif value.label:
            raise self.error(
                node.value,
                f"{target.id} = {value.label} only renames {value.label}; use {value.label} itself",
            )
        value.label = target.id
        self.env[target.id] = value
        return value

    def expression(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Constant) or _is_signed_number(node):
            return constant(self.number(node))
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise self.error(node, f"{node.id} is a function; call it, like {node.id}(x)")
            if node.id not in self.env:
                raise self.error(node, f"{node.id} has no value; pass it as {node.id}=NUMBER")
            return self.env[node.id]
        try:
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
                return self.expression(node.left) ** self.exponent(node.right)
            if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
                left, right = self.expression(node.left), self.expression(node.right)
                return _OPERATORS[type(node.op)](left, right)
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                return -self.expression(node.operand)
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
                return self.expression(node.operand)
            if isinstance(node, ast.Call):
                return self.call(node)
        except (ValueError, ArithmeticError) as exc:  # log(-1), 1 / 0, ...
            raise self.error(node, str(exc)) from None
        raise self.error(
            node, f"{_NOT_ALLOWED.get(type(node), 'this expression')} is not allowed; {ALLOWED}"
        )

    def call(self, node: ast.Call) -> Value:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.error(
                func, f"{_NOT_ALLOWED.get(type(func), 'this expression')} is not allowed; {ALLOWED}"
            )
        if func.id not in FUNCTIONS:
            raise self.error(func, f"unknown function {func.id}; known: {', '.join(FUNCTIONS)}")
        if len(node.args) != 1 or node.keywords:
            raise self.error(node, f"{func.id}() takes exactly one argument, like {func.id}(x)")
        arg = self.expression(node.args[0])
        method: Callable[[], Value] = getattr(arg, func.id)
        return method()

    def number(self, node: ast.expr) -> float:
        """A number literal, possibly signed (-3 is a constant, not a negation)."""
        sign = 1.0
        while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            sign = -sign if isinstance(node.op, ast.USub) else sign
            node = node.operand
        value = node.value if isinstance(node, ast.Constant) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return sign * value
        raise self.error(node, f"only numbers are allowed as constants, not {value!r}")

    def exponent(self, node: ast.expr) -> float:
        if isinstance(node, ast.Constant) or _is_signed_number(node):
            return self.number(node)
        raise self.error(node, "the exponent of ** must be a number, like x ** 2")


def _is_signed_number(node: ast.expr) -> bool:
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant)
