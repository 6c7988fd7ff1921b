"""The ``chainrule`` command line: one subcommand per module in this package.

Each subcommand module has ``add_parser(subparsers)`` which registers its
arguments and sets ``func``, the function that runs it and returns the exit
status. Modules are imported only when the command line is used.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ._common import one_line_errors

SUBCOMMANDS = ("train_cmd", "evaluate_cmd", "sample_cmd", "explain_cmd", "ops_cmd")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chainrule")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Backpropagation you can see and check.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {_version()}")
    one_line_errors(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"chainrule.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"chainrule.cli.{name}":
                raise
            continue
        module.add_parser(subparsers)
    for subparser in subparsers.choices.values():  # every subcommand: one-line errors, status 2
        one_line_errors(subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        status: int = args.func(args)
    except BrokenPipeError:  # the reader (say `| head`) stopped early: not an error
        sys.stderr.close()
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
