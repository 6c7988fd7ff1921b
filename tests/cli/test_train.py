"""``chainrule train`` / ``chainrule evaluate`` and the training library behind them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule import plots
from chainrule import train as tr

from .running import run_cli


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_short_training_run_writes_its_files_and_evaluates(
    model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "run"
    argv = ["train", "--model", model, "--epochs", "1", "--out", str(out_dir), "--no-progress"]
    status, out, err = run_cli(argv, capsys)
    assert status == 0, err
    assert "epoch   1/1  train loss" in out and "test accuracy" in out
    for name in ("model.npz", "config.json", "history.json", "curves.png", "confusion.png"):
        assert (out_dir / name).stat().st_size > 0, name
    config = json.loads((out_dir / "config.json").read_text())
    assert config["model"] == model and config["epochs"] == 1
    assert config["test_accuracy"] > 0.6  # one epoch already learns a lot
    history = json.loads((out_dir / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1]

    status, out, err = run_cli(["evaluate", str(out_dir)], capsys)
    assert status == 0, err
    assert f"accuracy: {100 * config['test_accuracy']:.2f}%" in out
    assert "true\\pred" in out and len(out.splitlines()) >= 13
    # the model file itself works too
    assert run_cli(["evaluate", str(out_dir / "model.npz")], capsys)[0] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--epochs", "-1"], "--epochs: must be a positive integer"),
        (["train", "--epochs", "two"], "--epochs: expected a positive integer"),
        (["train", "--optimizer", "lbfgs"], "invalid choice: 'lbfgs'"),
        (["train", "--model", "rnn"], "invalid choice: 'rnn'"),
        (["train", "--lr", "0"], "--lr: must be a positive number"),
        (["train", "--batch-size", "0"], "--batch-size: must be a positive integer"),
        (["train", "--batch-size", "1"], "batch_size must be at least 2"),
        (["evaluate", "/no/such/run"], "no model file at '/no/such/run"),
    ],
)
def test_bad_options_fail_with_one_line_and_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_cli(argv, capsys)
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""


def test_unreadable_model_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.npz").write_bytes(b"\x00" * 64)
    status, _, err = run_cli(["evaluate", str(run)], capsys)
    assert status == 2 and "no config.json" in err
    (run / "config.json").write_text(json.dumps({"format": tr.RUN_FORMAT, "model": "mlp"}))
    status, _, err = run_cli(["evaluate", str(run)], capsys)
    assert status == 2 and "model.npz" in err and "not an .npz archive" in err
    (run / "config.json").write_text("{not json")
    status, _, err = run_cli(["evaluate", str(run)], capsys)
    assert status == 2 and "config.json" in err
    assert len(err.strip().splitlines()) == 1


def test_weights_of_the_wrong_model_are_refused(tmp_path: Path) -> None:
    result = tr.train(tr.TrainConfig.for_model("mlp", epochs=1), progress=False, log=lambda s: None)
    tr.save_run(result, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(dict(config, model="cnn")))
    with pytest.raises(ValueError, match="does not hold a cnn model"):
        tr.load_run(tmp_path)


def test_training_is_reproducible_and_reloads_bit_for_bit(tmp_path: Path) -> None:
    config = tr.TrainConfig.for_model("mlp", epochs=2, seed=3)
    first = tr.train(config, progress=False, log=lambda s: None)
    second = tr.train(config, progress=False, log=lambda s: None)
    assert [h.train_loss for h in first.history] == [h.train_loss for h in second.history]
    assert first.confusion.sum() == 359 and first.confusion.shape == (10, 10)
    tr.save_run(first, tmp_path)
    model, loaded_config = tr.load_run(tmp_path)
    assert loaded_config == config
    _, X_test, _, y_test = tr.digits_split(config)
    np.testing.assert_array_equal(
        tr.evaluate(model, X_test, y_test)[2], tr.evaluate(first.model, X_test, y_test)[2]
    )
    first.model.eval()
    from chainrule import Tensor

    np.testing.assert_array_equal(model(Tensor(X_test)).data, first.model(Tensor(X_test)).data)


def test_without_matplotlib_and_tqdm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(plots, "_figure", lambda: None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails
    config = tr.TrainConfig.for_model("mlp", epochs=1)
    tr.main_train(config, tmp_path, progress=True)
    out = capsys.readouterr().out
    assert "matplotlib is not installed: skipping curves.png and confusion.png" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "config.json",
        "history.json",
        "model.npz",
    ]


def test_split_is_fixed_and_stratified() -> None:
    a = tr.digits_split(tr.TrainConfig.for_model("mlp", seed=1))
    b = tr.digits_split(tr.TrainConfig.for_model("cnn", seed=2))
    assert len(a[3]) == 359 and len(a[2]) == 1438
    np.testing.assert_array_equal(a[3], b[3])  # same test labels whatever the seed
    np.testing.assert_array_equal(a[1], b[1].reshape(-1, 64))
    assert np.bincount(a[3]).min() >= 34


def test_confusion_matrix_and_text() -> None:
    cm = tr.confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 2, 1, 2]), 3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    text = tr.format_confusion(cm)
    assert text.splitlines()[0].split() == ["true\\pred", "0", "1", "2"]


def test_the_command_line_entry_point(tmp_path: Path) -> None:
    out_dir = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "train", "--epochs", "1", "--out", str(out_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out_dir / "model.npz").exists()
    proc = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "train", "--epochs", "-5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "chainrule train: error: argument --epochs: must be a positive integer, got -5"
    )
