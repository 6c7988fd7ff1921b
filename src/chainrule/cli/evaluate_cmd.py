"""``chainrule evaluate``: reload a trained digits model and report its test accuracy."""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli._common import fail, one_line_errors


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "evaluate",
        help="report the test accuracy of a model saved by 'chainrule train'",
        description="Rebuild a model written by 'chainrule train' from its model.npz and "
        "config.json, and report its accuracy and confusion matrix on the same test split.",
    )
    parser.add_argument("path", metavar="PATH", help="a run directory, or the model.npz inside one")
    parser.set_defaults(func=run)
    one_line_errors(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from chainrule.train import (
        blas_threads,
        confusion_matrix,
        digits_split,
        evaluate,
        format_confusion,
        load_run,
    )

    try:
        model, config = load_run(args.path)
    except (OSError, ValueError) as exc:
        fail(f"chainrule evaluate: error: {exc}")
    _, X_test, _, y_test = digits_split(config)
    with blas_threads(1):
        loss, acc, pred = evaluate(model, X_test, y_test)
    errors = int((pred != y_test).sum())
    print(f"model: {config.model} ({sum(p.numel() for p in model.parameters()):,} parameters)")
    print(
        f"test images: {len(y_test)}  accuracy: {100 * acc:.2f}%  ({errors} wrong)  "
        f"loss: {loss:.4f}"
    )
    print("confusion matrix (rows: true digit, columns: predicted):")
    print(format_confusion(confusion_matrix(y_test, pred)))
    return 0
