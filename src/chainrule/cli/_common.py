"""Helpers shared by the subcommands: one-line errors with exit status 2."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn


def one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` report bad options as one line on stderr and exit with status 2.

    (argparse's default prints the whole usage block first.)
    """
    prog = parser.prog

    def error(message: str) -> NoReturn:
        fail(f"{prog}: error: {message}")

    parser.error = error  # type: ignore[method-assign]


def fail(line: str) -> NoReturn:
    print(line, file=sys.stderr)
    raise SystemExit(2)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


SEED_MAX = 2**32 - 1  # what every NumPy seeding function accepts


def seed(text: str) -> int:
    """A random seed: an int from 0 to 2**32 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"the seed must be from 0 to {SEED_MAX}, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value
