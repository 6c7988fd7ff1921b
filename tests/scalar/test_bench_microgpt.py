"""The microgpt benchmark's model: both engines compute the same, right numbers.

This guards the benchmark's correctness (its speed is measured by running it).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

import chainrule as cr

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_microgpt.py"
NAMES = ["anna", "bob", "cedric", "dee"]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    if not SCRIPT.exists():
        pytest.skip("benchmarks/ is not next to tests/")
    spec = importlib.util.spec_from_file_location("bench_microgpt", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def tiny(bench: ModuleType, std: float = 0.3) -> tuple[object, object, dict]:
    tokenizer = bench.Tokenizer(NAMES)
    config = bench.Config(
        vocab_size=tokenizer.vocab_size, n_embd=4, n_head=2, block_size=5, n_hidden=8
    )
    return tokenizer, config, bench.init_weights(config, seed=0, std=std)


def test_tokenizer_round_trip(bench: ModuleType) -> None:
    tokenizer = bench.Tokenizer(NAMES)
    assert tokenizer.chars == sorted(set("".join(NAMES)))
    assert tokenizer.vocab_size == len(tokenizer.chars) + 1
    ids = tokenizer.encode("bob")
    assert ids[0] == ids[-1] == tokenizer.bos
    assert "".join(tokenizer.chars[i] for i in ids[1:-1]) == "bob"


def test_both_engines_same_loss_gradients_and_update(bench: ModuleType) -> None:
    tokenizer, config, weights = tiny(bench)
    ref = bench.Engine("reference", bench.RefValue, weights, config)
    ours = bench.Engine("chainrule", cr.Value, weights, config)
    # "cedric" has 7 tokens: the block size (5) cuts it, so the cache is full
    tokens = tokenizer.encode("cedric")
    ref_loss, our_loss = ref.model.loss(tokens), ours.model.loss(tokens)
    assert math.isfinite(our_loss.data)
    assert our_loss.data == pytest.approx(ref_loss.data, rel=1e-12, abs=0)
    ref_loss.backward()
    our_loss.backward()
    params = list(zip(ref.model.parameters(), ours.model.parameters(), strict=True))
    assert any(q.grad != 0.0 for _, q in params)
    for p, q in params:
        assert q.grad == pytest.approx(p.grad, rel=1e-10, abs=1e-14)
    ref.optimizer.step()
    ours.optimizer.step()
    for p, q in params:
        assert q.data == pytest.approx(p.data, rel=1e-10, abs=1e-14)
    # and a whole step each, on the next name, from there
    assert ours.step(tokenizer.encode("anna")) == pytest.approx(
        ref.step(tokenizer.encode("anna")), rel=1e-12, abs=0
    )


def test_gradients_match_central_differences(bench: ModuleType) -> None:
    tokenizer, config, weights = tiny(bench)
    tokens = tokenizer.encode("dee")
    model = bench.GPT(cr.Value, weights, config)
    loss = model.loss(tokens)
    loss.backward()
    grads = {name: [[v.grad for v in row] for row in m] for name, m in model.w.items()}

    def loss_at(name: str, i: int, j: int, h: float) -> float:
        shifted = {k: [row[:] for row in m] for k, m in weights.items()}
        shifted[name][i][j] += h
        return bench.GPT(bench.NoGraphValue, shifted, config).loss(tokens).data

    # one weight from every matrix, the used rows of the embeddings
    for name, (i, j) in {
        "wte": (tokens[1], 2),
        "wpe": (1, 0),
        "wq": (3, 1),
        "wk": (0, 2),
        "wv": (2, 3),
        "wo": (1, 1),
        "fc1": (5, 2),
        "fc2": (3, 7),
        "head": (tokens[2], 0),
    }.items():
        h = 1e-6
        numeric = (loss_at(name, i, j, h) - loss_at(name, i, j, -h)) / (2 * h)
        assert grads[name][i][j] == pytest.approx(numeric, rel=1e-5, abs=1e-8), name


def test_loss_starts_near_uniform_and_adam_lowers_it(bench: ModuleType) -> None:
    tokenizer, config, weights = tiny(bench, std=0.01)
    engine = bench.Engine("chainrule", cr.Value, weights, config)
    tokens = tokenizer.encode("anna")
    first = engine.step(tokens)
    assert first == pytest.approx(math.log(config.vocab_size), abs=0.05)
    for _ in range(20):
        last = engine.step(tokens)
    assert last < first - 0.5  # one name, learned by heart


def test_main_runs_and_checks_agreement(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--rounds", "1", "--block", "2"]) == 0
    out = capsys.readouterr().out
    assert "agree to 1e-9" in out and "reference / chainrule" in out
