"""``chainrule train``: train a digits classifier (or, with ``--data names``, a GPT on
names), save it, plot its curves."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chainrule.cli._common import fail, one_line_errors, positive_float, positive_int, seed

DESCRIPTION = """\
Train a small network on the real 8x8 handwritten digits (1,797 images, a
fixed stratified 80/20 train/test split) and write, in --out: model.npz,
config.json, history.json, and with matplotlib curves.png and confusion.png.
With no options it trains the MLP with its built-in defaults.

With --data names (or surnames) it trains a character-level GPT on real
names from the 1990 US Census instead (a fixed 90/10 train/validation split),
reports the loss per epoch in nats per character next to a bigram model's,
and writes model.npz, config.json, history.json and curves.png; then
'chainrule sample DIR' draws new names from it."""

# options that belong to one kind of run only
DIGITS_ONLY = ("model", "optimizer")
NAMES_ONLY = ("n_embd", "n_head", "n_layer", "max_names")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from chainrule.lm import DATASETS, LMConfig
    from chainrule.train import DEFAULTS, MODELS, OPTIMIZERS

    mlp, cnn, gpt = DEFAULTS["mlp"], DEFAULTS["cnn"], LMConfig()
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "train",
        help="train a network on the handwritten digits",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data",
        choices=("digits", *DATASETS),
        default="digits",
        help="what to learn: the digits (default), or names or surnames with a GPT",
    )
    parser.add_argument("--model", choices=MODELS, help="digits network (default: mlp)")
    parser.add_argument(
        "--epochs",
        type=positive_int,
        help=f"passes over the training set (default: {mlp['epochs']} mlp, {cnn['epochs']} cnn, "
        f"{gpt.epochs} names)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        help=f"examples per step (default: {mlp['batch_size']} mlp, {cnn['batch_size']} cnn, "
        f"{gpt.batch_size} names)",
    )
    parser.add_argument(
        "--lr",
        type=positive_float,
        help=f"peak learning rate, annealed by a cosine schedule "
        f"(default: {mlp['lr']:g} mlp, {cnn['lr']:g} cnn, {gpt.lr:g} names)",
    )
    parser.add_argument(
        "--optimizer", choices=OPTIMIZERS, help=f"digits only (default: {mlp['optimizer']})"
    )
    for flag, value, what in (
        ("--n-embd", gpt.n_embd, "width of the GPT's vectors"),
        ("--n-head", gpt.n_head, "attention heads per layer"),
        ("--n-layer", gpt.n_layer, "transformer blocks"),
    ):
        parser.add_argument(flag, type=positive_int, help=f"names only: {what} (default: {value})")
    parser.add_argument(
        "--max-names",
        type=positive_int,
        metavar="N",
        help="names only: use the N most common names (default: all), for a quick run",
    )
    parser.add_argument(
        "--seed", type=seed, default=0, help="initialisation and shuffling seed (default: 0)"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="output directory (default: runs/digits-MODEL, runs/DATA-gpt for names)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar, only one line per epoch"
    )
    parser.add_argument(
        "--device", help="where to train: cpu (default), cuda or cuda:N "
        "(a GPU needs CuPy: pip install 'chainrule[cuda13]' or 'chainrule[cuda12]')"
    )
    parser.set_defaults(func=run)
    one_line_errors(parser)
    return parser


def _only_for(args: argparse.Namespace, names: tuple[str, ...], data: str, rank: int = 0) -> None:
    """Refuse options of the other kind of run (rank 0 says so; every rank stops)."""
    given = ["--" + n.replace("_", "-") for n in names if getattr(args, n) is not None]
    if given:
        if rank != 0:
            raise SystemExit(2)
        fail(f"chainrule train: error: {', '.join(given)} applies to --data {data} only")


def _device(device: str | None, world: int) -> str:
    """The ``--device`` asked for, checked before any training (ValueError, DeviceError)."""
    from chainrule import backend

    device = device or "cpu"
    if backend.parse_device(device, "--device")[0] == "cuda":
        backend.cuda_modules()  # CuPy is there, or say what to install
        if world > 1:
            raise ValueError("several processes on GPUs are not built yet (docs/gpu.md says "
                             "how they would sit on cr.distributed); use one")
    return device


def run(args: argparse.Namespace) -> int:
    from chainrule import distributed as dist
    from chainrule.distributed.group import abort
    from chainrule.errors import DeviceError
    from chainrule.train import Diverged, TrainConfig, local_batch_size, main_train

    dist.init_process_group()  # under mpiexec: one process of many, rank 0 reports
    if args.data != "digits":
        return run_names(args, dist.get_rank(), dist.get_world_size())
    _only_for(args, NAMES_ONLY, "names", dist.get_rank())
    try:
        config = TrainConfig.for_model(
            args.model or "mlp",
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            optimizer=args.optimizer,
            seed=args.seed,
        )
        local_batch_size(config.batch_size, dist.get_world_size())
        device = _device(args.device, dist.get_world_size())
    except (ValueError, DeviceError) as exc:  # every rank finds the same problem: one reports it
        if dist.get_rank() != 0:
            raise SystemExit(2) from None
        fail(f"chainrule train: error: {exc}")
    out = args.out or f"runs/digits-{config.model}"
    try:
        main_train(config, out, progress=not args.no_progress, device=device)
    except Diverged as exc:  # every rank sees the same (reduced) loss: one reports it
        if dist.get_rank() == 0:
            print(f"chainrule train: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # only rank 0 writes: its peers must not wait for it
        line = f"chainrule train: error: cannot write to {out!r}: {exc.strerror or exc}"
        print(line, file=sys.stderr)
        abort(2)
    return 0


def run_names(args: argparse.Namespace, rank: int, world: int) -> int:
    """``chainrule train --data names``: one process trains a GPT on names."""
    from chainrule.errors import DeviceError
    from chainrule.lm import Diverged, LMConfig, main_train

    if world > 1:  # every rank finds the same problem: one reports it
        if rank != 0:
            raise SystemExit(2)
        fail(
            f"chainrule train: error: --data {args.data} trains in one process; start it "
            f"without mpiexec (it takes about a minute on one core)"
        )
    _only_for(args, DIGITS_ONLY, "digits")
    settings = {
        "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
        "n_embd": args.n_embd, "n_head": args.n_head, "n_layer": args.n_layer,
        "max_names": args.max_names,
    }
    try:
        config = LMConfig(
            data=args.data, seed=args.seed, **{k: v for k, v in settings.items() if v is not None}
        )
        device = _device(args.device, world)
    except (ValueError, DeviceError) as exc:
        fail(f"chainrule train: error: {exc}")
    out = args.out or f"runs/{config.data}-gpt"
    try:
        main_train(config, out, progress=not args.no_progress, device=device)
    except Diverged as exc:
        print(f"chainrule train: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        fail(f"chainrule train: error: cannot write to {out!r}: {exc.strerror or exc}")
    return 0
