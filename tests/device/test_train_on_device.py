"""``chainrule train --device cuda`` on the CuPy test double: the run matches the cpu's,
and a training step never makes the host wait for the GPU (the loss and accuracy stay
on the device and are read once per epoch; the progress bar reads the live loss once
per step, as it must to show it)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from chainrule import backend
from chainrule import train as tr
from chainrule.cli import main

from . import fakecupy


def _run(config: tr.TrainConfig, device: str, progress: bool = False
         ) -> tuple[tr.TrainResult, list[tuple[str, str]]]:
    with fakecupy.counting() as syncs:
        result = tr.train(config, progress=progress, log=lambda line: None, device=device)
    return result, syncs


def _steps(config: tr.TrainConfig) -> int:
    n_train = 1438
    return n_train // config.batch_size + (n_train % config.batch_size > 1)


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_a_run_on_the_device_matches_the_cpu_run(gpu: None, model: str) -> None:
    config = tr.TrainConfig.for_model(model, epochs=2, batch_size=64)
    on_cpu, _ = _run(config, "cpu")
    on_gpu, _ = _run(config, "cuda")
    for a, b in zip(on_cpu.history, on_gpu.history, strict=True):
        np.testing.assert_allclose([a.train_loss, a.train_acc, a.test_loss, a.test_acc],
                                   [b.train_loss, b.train_acc, b.test_loss, b.test_acc],
                                   rtol=1e-5)
    assert all(p.device == "cuda:0" for p in on_gpu.model.parameters())
    assert (on_cpu.confusion == on_gpu.confusion).all()


def test_a_training_step_makes_no_host_sync(gpu: None) -> None:
    """The syncs of a run do not grow with its number of steps: none is in the step."""
    small = tr.TrainConfig.for_model("mlp", epochs=2, batch_size=16)
    large = tr.TrainConfig.for_model("mlp", epochs=2, batch_size=128)
    _, many_steps = _run(small, "cuda")
    _, few_steps = _run(large, "cuda")
    assert (_steps(small), _steps(large)) == (90, 12)
    assert Counter(many_steps) == Counter(few_steps), "a sync happens inside the step"
    # and the ones there are: two reads of the epoch's sums, the test-set evaluation
    places = Counter(where.split(" ")[0].split(":")[0] for _, where in many_steps)
    assert set(places) == {"train.py", "models.py"}, places
    # per epoch: the queued index checks, the loss sum and the correct count
    assert places["train.py"] == 3 * 2


def test_the_progress_bar_reads_the_loss_once_per_step(gpu: None) -> None:
    pytest.importorskip("tqdm", reason="the progress bar needs tqdm (pip install tqdm)")
    config = tr.TrainConfig.for_model("mlp", epochs=1, batch_size=64)
    _, quiet = _run(config, "cuda")
    _, shown = _run(config, "cuda", progress=True)
    extra = Counter(shown) - Counter(quiet)
    # one wait per step: the queued index checks, then the running loss sum
    assert sum(extra.values()) == 2 * _steps(config)
    assert {where.split(" ")[0].split(":")[0] for _, where in extra} == {"train.py"}


def test_the_command_line_trains_on_the_device(
        gpu: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "run"
    status = main(["train", "--epochs", "1", "--device", "cuda", "--no-progress",
                   "--out", str(out_dir)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "on cuda" in out and "test accuracy" in out
    config = json.loads((out_dir / "config.json").read_text())
    assert config["test_accuracy"] > 0.6
    assert main(["evaluate", str(out_dir)]) == 0  # the saved run loads on the cpu
    assert f"{100 * config['test_accuracy']:.2f}%" in capsys.readouterr().out


def test_asking_for_a_gpu_without_cupy_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(backend, "_CUDA", [])
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy fails
    with pytest.raises(SystemExit) as exc:
        main(["train", "--epochs", "1", "--device", "cuda"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("chainrule train: error:") and "pip install 'chainrule[cuda13]'" in err
    assert len(err.splitlines()) == 1
    with pytest.raises(SystemExit):
        main(["train", "--device", "tpu"])
    assert "unknown device 'tpu'" in capsys.readouterr().err


def test_the_names_gpt_trains_on_the_device(
        gpu: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from chainrule import lm

    config = lm.LMConfig(epochs=1, max_names=200, n_embd=16, n_head=2, n_layer=1)
    on_cpu = lm.train_lm(config, progress=False, log=lambda line: None)
    with fakecupy.counting() as syncs:
        on_gpu = lm.train_lm(config, progress=False, log=lambda line: None, device="cuda")
    np.testing.assert_allclose(on_gpu.history[0].train_loss, on_cpu.history[0].train_loss,
                               rtol=1e-5)
    np.testing.assert_allclose(on_gpu.val_loss, on_cpu.val_loss, rtol=1e-5)
    steps = -(-180 // config.batch_size)  # 200 names, 10% for validation
    in_training = [s for s in syncs if "training.py" in s[1] and "evaluate" not in s[1]]
    assert len(in_training) < steps, in_training  # read per epoch, not per step
    assert lm.sample(on_gpu.model, on_gpu.tokenizer, 5, seed=0) == lm.sample(
        on_cpu.model, on_cpu.tokenizer, 5, seed=0)
    status = main(["train", "--data", "names", "--epochs", "1", "--max-names", "100",
                   "--n-embd", "16", "--n-head", "2", "--n-layer", "1", "--device", "cuda",
                   "--no-progress", "--out", str(tmp_path / "run")])
    assert status == 0
    assert "on cuda" in capsys.readouterr().out
