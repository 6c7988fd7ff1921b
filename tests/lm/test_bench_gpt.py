"""benchmarks/bench_gpt.py compares like with like: its PyTorch model is chainrule's GPT
(the same state dict keys, loss and gradients from the same weights and batch)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import lm

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_gpt.py"


def test_the_torch_model_is_the_same_model() -> None:
    torch = pytest.importorskip("torch")
    if not SCRIPT.exists():
        pytest.skip("benchmarks/ is not next to tests/")
    spec = importlib.util.spec_from_file_location("bench_gpt", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)

    config = lm.LMConfig(n_embd=16, n_head=2, n_layer=2)
    cr.manual_seed(0)
    ours = lm.build_model(config, 27).double()
    theirs = bench.torch_gpt(config, 27).double()
    assert list(theirs.state_dict()) == list(ours.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v.data) for k, v in ours.state_dict().items()})
    data = lm.encode_names(["ada", "bartholomew", "zoe"], lm.Tokenizer(), 16)
    inputs, targets = data.batch(np.arange(3))
    loss = lm.lm_loss(ours, inputs, targets)
    logits = theirs(torch.from_numpy(inputs))
    their_loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, 27), torch.from_numpy(targets).reshape(-1), ignore_index=-100)
    assert loss.item() == pytest.approx(their_loss.item(), rel=1e-12)
    loss.backward()
    their_loss.backward()
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, their_params[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)
