"""ModuleList, ModuleDict, ParameterList, and plain lists of layers refused clearly."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_module_list_registers_and_behaves_like_a_list() -> None:
    layers = nn.ModuleList([nn.Linear(2, 3), nn.ReLU()])
    layers.append(nn.Linear(3, 1))
    layers += [nn.Tanh()]
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "ReLU", "Linear", "Tanh"]
    assert len(layers) == 5 and isinstance(layers[-1], nn.Tanh)
    assert [n for n, _ in layers.named_parameters()] == ["1.weight", "1.bias", "3.weight",
                                                         "3.bias"]
    head = layers[1:3]
    assert isinstance(head, nn.ModuleList) and len(head) == 2
    layers[0] = nn.Sigmoid()
    del layers[2]  # the ReLU: the later ones are renumbered
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    assert list(layers.state_dict()) == ["1.weight", "1.bias", "2.weight", "2.bias"]
    with pytest.raises(IndexError, match="index 9 is out of range for 4 modules"):
        layers[9]
    with pytest.raises(TypeError, match="ModuleList.append: item 4 is a int, not a Module"):
        layers.append(3)  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError, match="ModuleList must define forward"):
        layers(cr.zeros(1))


def test_module_dict_registers_under_its_keys() -> None:
    heads = nn.ModuleDict({"cls": nn.Linear(4, 3)})
    heads["box"] = nn.Linear(4, 2)
    heads.update([("extra", nn.ReLU())])
    assert list(heads) == ["cls", "box", "extra"] and "box" in heads and len(heads) == 3
    assert list(heads.state_dict()) == ["cls.weight", "cls.bias", "box.weight", "box.bias"]
    assert isinstance(heads.pop("extra"), nn.ReLU) and heads.keys() == ["cls", "box"]
    del heads["box"]
    assert [k for k, _ in heads.items()] == ["cls"]
    with pytest.raises(KeyError, match="no module 'box'"):
        heads["box"]
    with pytest.raises(KeyError, match="without '.'"):
        heads["a.b"] = nn.ReLU()
    with pytest.raises(TypeError, match="not a Module"):
        heads["x"] = "relu"  # type: ignore[assignment]


def test_parameter_list() -> None:
    params = nn.ParameterList([cr.zeros(2), nn.Parameter(np.ones(3))])
    assert [n for n, _ in params.named_parameters()] == ["0", "1"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)
    assert params[-1].shape == (3,)


class _WithList(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]


def test_a_plain_list_of_layers_is_refused_at_assignment() -> None:
    with pytest.raises(TypeError, match=r"_WithList\.layers is a plain list holding Modules.*"
                                        r"use nn\.ModuleList"):
        _WithList()

    class WithDict(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = {"a": nn.Linear(2, 2)}

    with pytest.raises(TypeError, match=r"plain dict holding Modules.*nn\.ModuleDict"):
        WithDict()

    class WithParams(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ws = (nn.Parameter(np.ones(2)),)

    with pytest.raises(TypeError, match=r"plain tuple holding Parameters.*nn\.ParameterList"):
        WithParams()


def test_a_list_filled_after_assignment_is_refused_when_parameters_are_listed() -> None:
    class Later(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = []
            for _ in range(2):
                self.blocks.append(nn.Linear(3, 3))
            self.out = nn.Linear(3, 1)

    model = Later()
    with pytest.raises(TypeError, match=r"Later\.blocks is a plain list holding Modules"):
        list(model.parameters())
    with pytest.raises(TypeError, match="use nn.ModuleList"):
        cr.optim.SGD(model.parameters(), lr=0.1)


def test_plain_lists_of_other_things_are_fine() -> None:
    class Fine(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.sizes = [4, 3]
            self.names = {"a": "b"}
            self.fc = nn.Linear(4, 3)

    assert len(list(Fine().parameters())) == 2


def test_containers_match_pytorch_state_dict_keys() -> None:
    torch = pytest.importorskip("torch")

    def build(lib: object) -> object:
        n = lib.nn  # type: ignore[attr-defined]

        class Net(n.Module):  # type: ignore[misc, name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.blocks = n.ModuleList([n.Linear(3, 3), n.BatchNorm1d(3)])
                self.heads = n.ModuleDict({"y": n.Linear(3, 1), "z": n.Linear(3, 2)})

        return Net()

    ours, theirs = build(cr), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # type: ignore[attr-defined]
