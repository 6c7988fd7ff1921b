"""``chainrule train --data names`` and ``chainrule sample``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chainrule.cli import main

from .running import run_cli

QUICK = ["--epochs", "1", "--max-names", "300", "--n-embd", "16", "--n-layer", "1",
         "--no-progress"]




@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("names") / "run"
    assert main(["train", "--data", "names", *QUICK, "--out", str(out)]) == 0
    return out


def test_a_short_run_reports_losses_beside_the_bigram_and_writes_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "run"
    status, out, err = run_cli(["train", "--data", "names", *QUICK, "--out", str(out_dir)], capsys)
    assert status == 0, err
    line = re.search(r"^epoch   1/1  train loss ([\d.]+)  val loss ([\d.]+)  \(bigram ([\d.]+)\)",
                     out, flags=re.MULTILINE)
    assert line is not None, out
    assert "the bigram baseline's" in out and "samples: " in out
    for name in ("model.npz", "config.json", "history.json", "curves.png"):
        assert (out_dir / name).stat().st_size > 0, name
    config = json.loads((out_dir / "config.json").read_text())
    assert config["data"] == "names" and config["n_embd"] == 16 and config["max_names"] == 300
    assert config["val_loss"] == pytest.approx(float(line.group(2)), abs=1e-4)
    assert config["bigram_val_loss"] == pytest.approx(float(line.group(3)), abs=1e-4)
    assert [h["epoch"] for h in json.loads((out_dir / "history.json").read_text())] == [1]


def test_surnames_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(["train", "--data", "surnames", *QUICK, "--out", str(tmp_path)],
                            capsys)
    assert status == 0, err
    assert "training a GPT on surnames" in out
    assert json.loads((tmp_path / "config.json").read_text())["data"] == "surnames"


def test_sample_prints_names_the_same_for_a_seed(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_cli(["sample", str(run_dir), "--num", "12", "--seed", "3"], capsys)
    assert status == 0, err
    names = out.split()
    assert len(names) == 12 and all(re.fullmatch(r"[a-z]*", n) for n in names)
    again = run_cli(["sample", str(run_dir / "model.npz"), "--num", "12", "--seed", "3"], capsys)
    assert again[1].split() == names
    other = run_cli(["sample", str(run_dir), "--num", "12", "--seed", "4"], capsys)
    assert other[1].split() != names
    cold = run_cli(["sample", str(run_dir), "--num", "3", "--temperature", "0.001"], capsys)[1]
    assert len(set(cold.split())) == 1  # the likeliest letter every time
    assert len(run_cli(["sample", str(run_dir)], capsys)[1].split()) == 20  # the default


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--data", "names", "--model", "cnn"],
         "chainrule train: error: --model applies to --data digits only"),
        (["train", "--data", "names", "--optimizer", "sgd", "--model", "mlp"],
         "--model, --optimizer applies to --data digits only"),
        (["train", "--n-embd", "32"], "--n-embd applies to --data names only"),
        (["train", "--max-names", "50"], "--max-names applies to --data names only"),
        (["train", "--data", "names", "--n-embd", "30"],
         "n_embd 30 must be a multiple of n_head 4"),
        (["train", "--data", "names", "--max-names", "5"], "max_names must be an integer of at "
                                                           "least 10"),
        (["train", "--data", "names", "--n-layer", "0"], "--n-layer: must be a positive integer"),
        (["train", "--data", "poems"], "invalid choice: 'poems'"),
        (["sample", "/no/such/run"], "chainrule sample: error: no model file at '/no/such/run"),
        (["sample", "x", "--temperature", "0"], "--temperature: must be a positive number"),
        (["sample", "x", "--num", "0"], "--num: must be a positive integer"),
        (["sample", "x", "--seed", "-1"], "the seed must be from 0 to"),
        (["sample"], "the following arguments are required: RUN_DIR"),
    ],
)
def test_bad_options_are_one_line_errors_with_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_cli(argv, capsys)
    assert status == 2
    assert message in err, err
    assert len(err.strip().splitlines()) == 1 and out == ""


def test_sample_refuses_a_digits_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "model.npz").write_bytes(b"")
    (tmp_path / "config.json").write_text(json.dumps({"format": "chainrule-digits-run"}))
    status, _, err = run_cli(["sample", str(tmp_path)], capsys)
    assert status == 2
    assert "is not a run of 'chainrule train --data names'" in err
    assert len(err.strip().splitlines()) == 1


def test_an_unwritable_output_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    status, _, err = run_cli(["train", "--data", "names", *QUICK, "--out", str(blocker / "run")],
                          capsys)
    assert status == 2
    assert err.startswith("chainrule train: error: cannot write to") and "Traceback" not in err
