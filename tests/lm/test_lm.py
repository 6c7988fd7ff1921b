"""The GPT on names: tokens and padded batches, the bigram baseline, the model (causal,
padding-proof, microgpt's numbers on tensors), training, sampling and saved runs."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import chainrule as cr
from chainrule import lm

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "microgpt.py"
QUICK = {"epochs": 1, "max_names": 300, "n_embd": 16, "n_layer": 1}


def test_tokenizer_round_trip_and_refusal() -> None:
    tok = lm.Tokenizer()
    assert tok.vocab_size == 27 and tok.bos == 26
    assert tok.encode("ada") == [26, 0, 3, 0, 26]
    assert tok.decode(tok.encode("zoe")) == "zoe"
    with pytest.raises(ValueError, match="cannot encode 'jo-ann': '-' is not one of"):
        tok.encode("jo-ann")


def test_batches_pad_inputs_with_bos_and_targets_with_ignore() -> None:
    tok = lm.Tokenizer()
    data = lm.encode_names(["ab", "c", "defg"], tok, block_size=6)
    assert data.inputs.shape == (3, 6)
    np.testing.assert_array_equal(data.inputs[0], [26, 0, 1, 26, 26, 26])
    np.testing.assert_array_equal(data.targets[0], [0, 1, 26, -100, -100, -100])
    inputs, targets = data.batch(np.array([0, 1]))  # cut to the longest of the two: 3 steps
    assert inputs.shape == targets.shape == (2, 3)
    np.testing.assert_array_equal(targets[1], [2, 26, -100])
    order = [b[0][:, 1] for b in lm.batches(data, 2, np.random.default_rng(0))]
    assert sorted(np.concatenate(order).tolist()) == [0, 2, 3]  # every name once
    with pytest.raises(ValueError, match="block_size must be at least 5"):
        lm.encode_names(["defg"], tok, block_size=4)


def test_split_is_fixed_disjoint_and_covers_every_name() -> None:
    train, val = lm.split_names("names", 0.1, split_seed=0)
    again = lm.split_names("names", 0.1, split_seed=0)
    assert (train, val) == again
    assert len(val) == round(0.1 * 5163) and len(train) + len(val) == 5163
    assert not set(train) & set(val)
    assert lm.split_names("names", 0.1, split_seed=1)[1] != val
    small_train, small_val = lm.split_names("surnames", 0.2, 0, max_names=100)
    assert len(small_val) == 20 and set(small_train + small_val) == set(
        cr.data.load_surnames()[:100])


def test_bigram_baseline_by_hand() -> None:
    tok = lm.Tokenizer("ab")  # vocabulary a, b, BOS
    train = lm.encode_names(["ab", "a"], tok, 4)
    val = lm.encode_names(["b"], tok, 4)
    # pairs in training: BOS>a twice, a>b, b>BOS, a>BOS; add one to each of the 9 counts
    counts = np.ones((3, 3))
    for prev, nxt in [(2, 0), (0, 1), (1, 2), (2, 0), (0, 2)]:
        counts[prev, nxt] += 1
    p = counts / counts.sum(axis=1, keepdims=True)
    want = -(math.log(p[2, 1]) + math.log(p[1, 2])) / 2  # val "b": BOS>b, b>BOS
    assert lm.bigram_loss(train, val, tok.vocab_size) == pytest.approx(want, rel=1e-12)


def _gpt(**kwargs: int) -> lm.GPT:
    cr.manual_seed(0)
    return lm.GPT(27, **kwargs)


def test_the_model_is_causal_and_padding_changes_nothing() -> None:
    model = _gpt(block_size=8, n_embd=16, n_head=2, n_layer=2)
    idx = np.array([[26, 0, 3, 0, 5, 7]])
    logits = model(idx).data
    changed = idx.copy()
    changed[0, 4:] = [1, 2]
    np.testing.assert_array_equal(model(changed).data[0, :4], logits[0, :4])
    tok = lm.Tokenizer()
    alone = lm.encode_names(["ada"], tok, 8)
    padded = lm.encode_names(["ada", "dominic"], tok, 8)
    loss_alone = lm.lm_loss(model, *alone.batch(np.array([0]))).item()
    inputs, targets = padded.batch(np.array([0, 1]))
    per_position = lm.lm_loss(model, inputs, targets, reduction="none").data.reshape(2, -1)
    assert per_position[0, :4].mean() == pytest.approx(loss_alone, rel=1e-5)
    assert (per_position[0, 4:] == 0).all()  # padding: ignored


def test_the_model_refuses_sequences_longer_than_its_block() -> None:
    with pytest.raises(ValueError, match=r"T <= block_size 4, got \(1, 5\)"):
        _gpt(block_size=4, n_embd=8, n_head=2)(np.zeros((1, 5), dtype=np.int64))


@pytest.fixture(scope="module")
def microgpt() -> ModuleType:
    if not EXAMPLE.exists():
        pytest.skip("examples/ is not next to tests/")
    spec = importlib.util.spec_from_file_location("microgpt_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_scalar_microgpt_and_the_tensor_gpt_are_the_same_model(microgpt: ModuleType) -> None:
    """With microgpt's size and its weights, the tensor GPT gives the scalar example's loss
    and the same gradient on every weight."""
    tok = microgpt.Tokenizer(["abcdefghijklmnopqrstuvwxyz"])
    params = microgpt.init_params(tok.vocab_size, seed=3)
    tokens = tok.encode("emmanuel")
    scalar_loss = microgpt.name_loss(tokens, params)
    scalar_loss.backward()

    model = lm.GPT(tok.vocab_size, microgpt.BLOCK_SIZE, microgpt.N_EMBD, microgpt.N_HEAD, 1)
    model.double()
    as_array = {k: np.array([[v.data for v in row] for row in m]) for k, m in params.items()}
    block = model.blocks[0]
    state = {
        "wte.weight": as_array["wte"], "wpe.weight": as_array["wpe"],
        "blocks.0.attn.in_proj_weight": np.concatenate(
            [as_array["wq"], as_array["wk"], as_array["wv"]]),
        "blocks.0.attn.out_proj.weight": as_array["wo"],
        "blocks.0.fc1.weight": as_array["fc1"], "blocks.0.fc2.weight": as_array["fc2"],
        "head.weight": as_array["head"],
    }
    model.load_state_dict({**model.state_dict(), **state})
    data = lm.encode_names(["emmanuel"], lm.Tokenizer(), microgpt.BLOCK_SIZE)
    loss = lm.lm_loss(model, *data.batch(np.array([0])))
    assert loss.item() == pytest.approx(scalar_loss.data, rel=1e-12)
    loss.backward()
    grads = {k: np.array([[v.grad for v in row] for row in m]) for k, m in params.items()}
    np.testing.assert_allclose(model.wte.weight.grad.data, grads["wte"], atol=1e-12)
    np.testing.assert_allclose(block.attn.in_proj_weight.grad.data,
                               np.concatenate([grads["wq"], grads["wk"], grads["wv"]]), atol=1e-12)
    np.testing.assert_allclose(block.fc2.weight.grad.data, grads["fc2"], atol=1e-12)
    np.testing.assert_allclose(model.head.weight.grad.data, grads["head"], atol=1e-12)


def test_a_short_run_learns_is_reproducible_and_reloads(tmp_path: Path) -> None:
    config = lm.LMConfig(**QUICK, seed=2)
    first = lm.train_lm(config, progress=False, log=lambda s: None)
    second = lm.train_lm(config, progress=False, log=lambda s: None)
    assert [h.val_loss for h in first.history] == [h.val_loss for h in second.history]
    assert first.val_loss < math.log(27)  # better than a uniform guess already
    assert 2.0 < first.bigram_val_loss < math.log(27)
    lm.save_run(first, tmp_path)
    model, tokenizer, loaded = lm.load_run(tmp_path)
    assert loaded == config and tokenizer.chars == first.tokenizer.chars
    names = lm.sample(model, tokenizer, 8, seed=4)
    assert names == lm.sample(first.model, first.tokenizer, 8, seed=4)
    config_json = json.loads((tmp_path / "config.json").read_text())
    assert config_json["val_loss"] == first.val_loss
    assert config_json["bigram_val_loss"] == first.bigram_val_loss


def test_sampling_is_reproducible_for_a_seed_and_follows_the_temperature() -> None:
    model = _gpt(n_embd=16, n_head=2, n_layer=1)
    tok = lm.Tokenizer()
    names = lm.sample(model, tok, 50, seed=1)
    assert names == lm.sample(model, tok, 50, seed=1)
    assert names != lm.sample(model, tok, 50, seed=2)
    assert all(set(n) <= set(tok.chars) and len(n) <= 16 for n in names)
    # near-zero temperature: the most likely letter every time, the same name for every seed
    cold = {tuple(lm.sample(model, tok, 3, seed=s, temperature=1e-4)) for s in range(3)}
    assert len(cold) == 1
    with pytest.raises(ValueError, match="temperature must be positive"):
        lm.sample(model, tok, 1, temperature=0.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": "digits"}, "unknown data 'digits'; choose one of names, surnames"),
        ({"n_embd": 30, "n_head": 4}, "n_embd 30 must be a multiple of n_head 4"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"lr": float("nan")}, "lr must be a positive number"),
        ({"max_names": 5}, "max_names must be an integer of at least 10"),
        ({"val_fraction": 1.0}, "val_fraction must be in (0, 1)"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as info:
        lm.LMConfig(**kwargs)
    assert message in str(info.value)


def test_a_digits_run_is_not_a_names_run(tmp_path: Path) -> None:
    (tmp_path / "model.npz").write_bytes(b"")
    (tmp_path / "config.json").write_text(json.dumps({"format": "chainrule-digits-run"}))
    with pytest.raises(ValueError, match="is not a run of 'chainrule train --data names'"):
        lm.load_run(tmp_path)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_diverging_run_stops() -> None:
    with pytest.raises(lm.Diverged, match="the training diverged at epoch 1"):
        lm.train_lm(lm.LMConfig(**QUICK, lr=1e12), progress=False, log=lambda s: None)


@pytest.mark.parametrize("with_tqdm", [True, False])
def test_the_progress_bar_with_and_without_tqdm(
    with_tqdm: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if with_tqdm:
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # the import fails
    lines: list[str] = []
    result = lm.train_lm(lm.LMConfig(**QUICK), progress=True, log=lines.append)
    assert len(lines) == 1 and lines[0].startswith("epoch   1/1  train loss")
    assert len(result.history) == 1
    err = capsys.readouterr().err
    assert ("epoch 1/1" in err) == with_tqdm
