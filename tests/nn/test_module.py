"""Module bookkeeping: registration, names, modes, state dicts, save/load, repr."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import ShapeError
from chainrule.serialize import load, save


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.note = "not registered"

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        return self.bn(self.fc(x)).relu() * self.scale


def _model() -> nn.Module:
    cr.manual_seed(0)
    return nn.Sequential(Block(), nn.Dropout(0.2), nn.Linear(3, 2))


def test_names_follow_pytorch() -> None:
    model = _model()
    assert [n for n, _ in model.named_parameters()] == [
        "0.scale",
        "0.fc.weight",
        "0.fc.bias",
        "0.bn.weight",
        "0.bn.bias",
        "2.weight",
        "2.bias",
    ]
    assert list(model.state_dict()) == [
        "0.scale",
        "0.fc.weight",
        "0.fc.bias",
        "0.bn.weight",
        "0.bn.bias",
        "0.bn.running_mean",
        "0.bn.running_var",
        "0.bn.num_batches_tracked",
        "2.weight",
        "2.bias",
    ]
    assert [type(m).__name__ for m in model.children()] == ["Block", "Dropout", "Linear"]
    assert [n for n, _ in model.named_modules()] == ["", "0", "0.fc", "0.bn", "1", "2"]
    assert isinstance(model[0].fc.weight, nn.Parameter)  # type: ignore[union-attr]
    assert model[0].note == "not registered"  # type: ignore[union-attr]


def test_parameter_is_a_leaf_tensor_requiring_grad() -> None:
    p = nn.Parameter(np.zeros((2, 2)))
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_shared_parameter_is_listed_once() -> None:
    lin = nn.Linear(2, 2)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(model.parameters())) == 2


def test_reassigning_and_deleting() -> None:
    block = Block()
    block.fc = nn.Linear(4, 3, bias=False)
    assert block.fc.bias is None
    assert [n for n, _ in block.fc.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match="is a parameter"):
        block.scale = np.ones(1)
    with pytest.raises(TypeError, match="is a submodule"):
        block.fc = 3
    del block.scale
    assert "scale" not in dict(block.named_parameters())

    class Forgetful(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(np.ones(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Forgetful()


def test_train_eval_and_zero_grad() -> None:
    model = _model()
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    out = model(cr.randn(5, 4, dtype=np.float32))
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_repr_is_readable() -> None:
    text = repr(_model())
    assert text.splitlines()[0] == "Sequential("
    assert "(fc): Linear(in_features=4, out_features=3, bias=True)" in text
    assert "(1): Dropout(p=0.2)" in text
    assert "(bn): BatchNorm1d(3, eps=1e-05, momentum=0.1" in text
    assert repr(nn.Conv2d(1, 8, 3, padding=1)) == (
        "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    )


def test_state_dict_is_a_snapshot_and_loads_back() -> None:
    model = _model()
    state = model.state_dict()
    before = state["2.weight"].data.copy()
    model[2].weight.data += 1  # type: ignore[union-attr]
    np.testing.assert_array_equal(state["2.weight"].data, before)
    result = model.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(model[2].weight.data, before)  # type: ignore[union-attr]


def test_load_state_dict_errors_name_the_key_and_shapes() -> None:
    model = _model()
    state = {k: v.data for k, v in model.state_dict().items()}
    bad = dict(state, **{"2.weight": np.zeros((5, 3))})
    with pytest.raises(
        ShapeError, match=r"'2.weight' has shape \(2, 3\) in the model but \(5, 3\)"
    ):
        model.load_state_dict(bad)
    # nothing was changed by the failed load
    np.testing.assert_array_equal(model.state_dict()["2.bias"].data, state["2.bias"])
    missing = {k: v for k, v in state.items() if k != "0.bn.running_var"}
    with pytest.raises(ValueError, match="missing keys '0.bn.running_var'"):
        model.load_state_dict(missing)
    extra = dict(state, extra=np.ones(1))
    with pytest.raises(ValueError, match="unexpected keys 'extra'"):
        model.load_state_dict(extra)
    result = model.load_state_dict(dict(missing, extra=np.ones(1)), strict=False)
    assert result.missing_keys == ["0.bn.running_var"] and result.unexpected_keys == ["extra"]


def test_save_load_round_trip_reproduces_predictions_bit_for_bit(tmp_path: Path) -> None:
    model = _model()
    model.train()
    for _ in range(3):  # move the BatchNorm statistics off their defaults
        model(cr.randn(8, 4, dtype=np.float32))
    model.eval()
    x = cr.randn(6, 4, dtype=np.float32)
    expected = model(x).data
    save(model.state_dict(), tmp_path / "model.npz")
    cr.manual_seed(123)  # different initial weights
    fresh = nn.Sequential(Block(), nn.Dropout(0.2), nn.Linear(3, 2))
    assert not np.array_equal(fresh.eval()(x).data, expected)
    fresh.load_state_dict(load(tmp_path / "model.npz"))
    np.testing.assert_array_equal(fresh(x).data, expected)
    assert int(fresh[0].bn.num_batches_tracked.data) == 3  # type: ignore[union-attr]


def test_to_double_casts_parameters_and_buffers() -> None:
    model = _model().double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[0].bn.running_mean.dtype == np.float64  # type: ignore[union-attr]
    assert model[0].bn.num_batches_tracked.dtype == np.int64  # type: ignore[union-attr]
    with pytest.raises(TypeError, match="floating"):
        model.to(np.int32)


def test_sequential_indexing_and_append() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    model.append(nn.Linear(3, 1))
    assert len(model) == 3 and isinstance(model[-1], nn.Linear)
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    assert model(cr.randn(4, 2, dtype=np.float32)).shape == (4, 1)
    with pytest.raises(TypeError, match="argument 1 is a int"):
        nn.Sequential(nn.ReLU(), 3)  # type: ignore[arg-type]


def test_layers_reject_bad_shapes_clearly() -> None:
    with pytest.raises(ShapeError, match=r"linear: input of shape \(2, 5\) does not fit weight"):
        nn.Linear(4, 3)(cr.randn(2, 5))
    with pytest.raises(ShapeError, match="conv2d"):
        nn.Conv2d(3, 4, 3)(cr.randn(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\)"):
        nn.BatchNorm1d(3)(cr.randn(4, 5))
    with pytest.raises(IndexError, match="target 7 is out of range for 3 classes"):
        nn.CrossEntropyLoss()(cr.randn(2, 3), np.array([0, 7]))
    with pytest.raises(TypeError, match="integer class indices"):
        nn.NLLLoss()(cr.randn(2, 3), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="Linear: in_features must be a positive int"):
        nn.Linear(0, 3)


def test_seeding_makes_models_reproducible() -> None:
    cr.manual_seed(7)
    a = nn.Linear(5, 5)
    cr.manual_seed(7)
    b = nn.Linear(5, 5)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
