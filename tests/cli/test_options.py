"""Every bad option of every subcommand is one line on stderr with exit status 2;
``--version``, ``python -m chainrule``, and a diverging ``chainrule train`` stops."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from chainrule.cli import build_parser

from .running import run_cli


def _subcommands() -> list[str]:
    parser = build_parser()
    return sorted(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


def test_every_subcommand_is_covered() -> None:
    assert {"train", "evaluate", "explain", "ops"} <= set(_subcommands())


BAD = [
    ["--no-such-option"],
    ["--no-such-option", "value", "x=1"],
    ["-z"],
]


@pytest.mark.parametrize("command", _subcommands())
@pytest.mark.parametrize("extra", BAD, ids=["flag", "flag-with-values", "short"])
def test_a_bad_option_of_any_subcommand_is_one_line_and_status_2(
    command: str, extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_cli([command, *extra], capsys)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert "error" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--seed", "-5"], "--seed: the seed must be from 0 to 4294967295, got -5"),
        (["train", "--seed", str(2**32)], "the seed must be from 0 to 4294967295"),
        (["train", "--seed", "1.5"], "--seed: expected an integer seed, got '1.5'"),
        (["train", "--lr", "nan"], "--lr: must be a positive number"),
        (["train", "--lr", "inf"], "--lr: must be a positive number"),
        (["ops", "--family", "nope"], "invalid choice: 'nope'"),
        (["ops", "no_such_op"], "no operation named 'no_such_op'"),
        (["explain"], "the following arguments are required"),
        (["explain", "L = a +", "a=1"], "invalid syntax"),
        (["explain", "L = a * 2", "a=two"], "the value of a must be a number"),
        (["--no-such-option"], "unrecognized arguments"),
        (["no-such-command"], "invalid choice: 'no-such-command'"),
    ],
)
def test_bad_values_are_one_line_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_cli(argv, capsys)
    assert status == 2
    assert message in err
    assert err.strip().splitlines()[0].startswith("chainrule")
    assert "Traceback" not in err and out == ""


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(["--version"], capsys)
    assert status == 0 and out.strip() == f"chainrule {version('chainrule')}"


def test_python_dash_m_chainrule() -> None:
    proc = subprocess.run([sys.executable, "-m", "chainrule", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("chainrule ")
    proc = subprocess.run([sys.executable, "-m", "chainrule", "train", "--seed", "-5"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("chainrule train: error: argument --seed: the seed must be "
                                   "from 0 to 4294967295, got -5")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow, on the way up
@pytest.mark.parametrize(("optimizer", "what"), [("adam", "is "), ("sgd", "became nan")])
def test_a_diverging_training_run_stops_with_a_clear_message(
    optimizer: str, what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "run"
    argv = ["train", "--lr", "1e9", "--optimizer", optimizer, "--epochs", "3", "--out",
            str(out_dir), "--no-progress"]
    status, out, err = run_cli(argv, capsys)
    assert status == 1
    line = err.strip().splitlines()[-1]
    assert line.startswith("chainrule train: error: the training diverged at epoch 1: the mean "
                           f"training loss {what}")
    assert "try a smaller learning rate than --lr 1e+09 (the mlp default is 0.001)" in line
    assert "epoch   2/3" not in out  # it stopped at once
    assert not (out_dir / "model.npz").exists()  # no diverged model left to mistake for a result

