"""``chainrule sample``: new names from a GPT trained by ``chainrule train --data names``."""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli._common import fail, one_line_errors, positive_float, positive_int, seed


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sample",
        help="print new names drawn from a GPT saved by 'chainrule train --data names'",
        description="Rebuild the GPT saved in RUN_DIR by 'chainrule train --data names' and "
        "print --num names it generates, one letter at a time. The same --seed gives the "
        "same names.",
    )
    parser.add_argument("path", metavar="RUN_DIR", help="a run directory, or its model.npz")
    parser.add_argument("--num", type=positive_int, default=20, help="how many names (default: 20)")
    parser.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--temperature",
        type=positive_float,
        default=1.0,
        help="divides the scores before the softmax: below 1 safer, above 1 wilder (default: 1)",
    )
    parser.set_defaults(func=run)
    one_line_errors(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from chainrule.lm import load_run, sample
    from chainrule.train import blas_threads

    try:
        model, tokenizer, _ = load_run(args.path)
    except (OSError, ValueError) as exc:
        fail(f"chainrule sample: error: {exc}")
    with blas_threads(1):
        names = sample(model, tokenizer, args.num, seed=args.seed, temperature=args.temperature)
    for name in names:
        print(name)
    return 0
