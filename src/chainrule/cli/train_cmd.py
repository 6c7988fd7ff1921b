"""``chainrule train``: train a digits classifier, save it, plot its curves and errors."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chainrule.cli._common import fail, one_line_errors, positive_float, positive_int, seed

DESCRIPTION = """\
Train a small network on the real 8x8 handwritten digits (1,797 images, a
fixed stratified 80/20 train/test split) and write, in --out: model.npz,
config.json, history.json, and with matplotlib curves.png and confusion.png.
With no options it trains the MLP with its built-in defaults."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from chainrule.train import DEFAULTS, MODELS, OPTIMIZERS

    mlp, cnn = DEFAULTS["mlp"], DEFAULTS["cnn"]
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "train",
        help="train a network on the handwritten digits",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", choices=MODELS, default="mlp", help="network (default: mlp)")
    parser.add_argument(
        "--epochs",
        type=positive_int,
        help=f"passes over the training set (default: {mlp['epochs']} mlp, {cnn['epochs']} cnn)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        help=f"images per step (default: {mlp['batch_size']} mlp, {cnn['batch_size']} cnn)",
    )
    parser.add_argument(
        "--lr",
        type=positive_float,
        help=f"peak learning rate, annealed by a cosine schedule "
        f"(default: {mlp['lr']:g} mlp, {cnn['lr']:g} cnn)",
    )
    parser.add_argument("--optimizer", choices=OPTIMIZERS, help=f"default: {mlp['optimizer']}")
    parser.add_argument(
        "--seed", type=seed, default=0, help="initialisation and shuffling seed (default: 0)"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="output directory (default: runs/digits-MODEL)"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar, only one line per epoch"
    )
    parser.add_argument(
        "--device", default="cpu", help="where to train: cpu (default), cuda or cuda:N "
        "(a GPU needs CuPy: pip install 'chainrule[cuda13]' or 'chainrule[cuda12]')"
    )
    parser.set_defaults(func=run)
    one_line_errors(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from chainrule import backend
    from chainrule import distributed as dist
    from chainrule.distributed.group import abort
    from chainrule.errors import DeviceError
    from chainrule.train import Diverged, TrainConfig, local_batch_size, main_train

    dist.init_process_group()  # under mpiexec: one process of many, rank 0 reports
    try:
        config = TrainConfig.for_model(
            args.model,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            optimizer=args.optimizer,
            seed=args.seed,
        )
        local_batch_size(config.batch_size, dist.get_world_size())
        if backend.parse_device(args.device, "--device")[0] == "cuda":
            backend.cuda_modules()  # CuPy is there, or say what to install, before training
            if dist.get_world_size() > 1:
                raise ValueError("several processes on GPUs are not built yet (docs/gpu.md "
                                 "says how they would sit on cr.distributed); use one")
    except (ValueError, DeviceError) as exc:  # every rank finds the same problem: one reports it
        if dist.get_rank() != 0:
            raise SystemExit(2) from None
        fail(f"chainrule train: error: {exc}")
    out = args.out or f"runs/digits-{config.model}"
    try:
        main_train(config, out, progress=not args.no_progress, device=args.device)
    except Diverged as exc:  # every rank sees the same (reduced) loss: one reports it
        if dist.get_rank() == 0:
            print(f"chainrule train: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # only rank 0 writes: its peers must not wait for it
        line = f"chainrule train: error: cannot write to {out!r}: {exc.strerror or exc}"
        print(line, file=sys.stderr)
        abort(2)
    return 0
