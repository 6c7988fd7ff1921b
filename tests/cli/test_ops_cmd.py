"""``chainrule ops``: the registry as a reference card."""

from __future__ import annotations

import pytest

from chainrule.cli import main
from chainrule.ops import REGISTRY


def test_the_card_lists_every_operation_with_its_formula(capsys: pytest.CaptureFixture) -> None:
    assert main(["ops"]) == 0
    out = capsys.readouterr().out
    for info in REGISTRY.values():
        assert f"\n{info.name}" in out and info.formula in out
    assert "t + u" in out and "cr.exp(...)" in out and "[composite]" in out


def test_names_and_families_narrow_the_card(capsys: pytest.CaptureFixture) -> None:
    assert main(["ops", "matmul", "--family", "linalg"]) == 0
    out = capsys.readouterr().out
    assert "∂L/∂A = G·Bᵀ" in out and "\nexp" not in out and "linear" not in out


def test_an_unknown_name_is_a_one_line_error(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["ops", "matmull"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "matmull" in err and "\n" not in err
