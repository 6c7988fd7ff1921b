"""chainrule explain: the graph and the chain rule for an expression, or a pointed error."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainrule.cli import main

MERMAID_EXAMPLE_1 = """\
```mermaid
flowchart LR
a["a<br/>data: 3<br/>grad: 4"] --> plus(("+"))
b["b<br/>data: 2<br/>grad: 4"] --> plus
plus --> v1["v1<br/>data: 5<br/>grad: 4"]
v1 --> mult(("×"))
d["d<br/>data: 4<br/>grad: 5"] --> mult
mult --> L["L<br/>data: 20<br/>grad: 1"]
```
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["explain", *argv])
    out, err = capsys.readouterr()
    return status, out, err


OUTLINE_EXAMPLE_1 = """\
L = v1 × d    data 20    grad 1
├── v1 = a + b    data 5    grad 4
│   ├── a    data 3    grad 4
│   └── b    data 2    grad 4
└── d    data 4    grad 5

"""


def test_explain_prints_the_graph_and_the_chain_rule(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "L = (a + b) * d", "a=3", "b=2", "d=4")
    assert (status, err) == (0, "")
    # first a drawing any terminal shows, then Mermaid source, then the words
    assert out.startswith(OUTLINE_EXAMPLE_1 + MERMAID_EXAMPLE_1 + "\n# Backward pass from L\n")
    assert "Forward pass: v1 = a + b = 5, L = v1 × d = 20." in out
    assert "- path through v1 = a + b: local ∂v1/∂a = 1, upstream ∂L/∂v1 = 4 → 1 × 4 = 4" in out
    assert out.rstrip().endswith("∂L/∂a = **4**")


def test_statements_with_semicolons_newlines_and_number_inputs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "x = 5; y = x + 2\nz = x * 3; L = y * z")
    assert status == 0
    assert (
        'two["2<br/>(const)"] --> plus' in out
        and 'mult2 --> L["L<br/>data: 105<br/>grad: 1"]' in out
    )
    assert "∂L/∂x = 15 + 21 = **36**" in out


def test_functions_powers_and_signed_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "h = tanh(w * -2 + b) ** 2; L = -h / 4", "w=0.5", "b=0.25")
    assert status == 0
    assert 'const["-2<br/>(const)"] --> mult' in out  # -2 is a number, not a negation
    assert 'tanh(("tanh"))' in out and 'pow(("**2"))' in out and 'neg(("neg"))' in out
    assert "### h = v3 ** 2 = 0.4" in out and "L = v4 / 4" in out


@pytest.mark.parametrize(
    "argv, message, line, caret",
    [
        (["L = a.data", "a=1"], "column 6: attribute access is not allowed", "L = a.data", 5),
        (["import os", "a=1"], "column 1: import is not allowed", "import os", 0),
        (["L = os.system('ls')"], "column 7: attribute access is not allowed", None, 6),
        (["L = q + a", "a=1"], "column 5: q has no value; pass it as q=NUMBER", "L = q + a", 4),
        (["L = foo(a)", "a=1"], "column 5: unknown function foo", "L = foo(a)", 4),
        (["L = exp(a, a)", "a=1"], "column 5: exp() takes exactly one argument", None, 4),
        (["L = a ** a", "a=1"], "column 10: the exponent of ** must be a number", None, 9),
        (
            ["L = a if a else a", "a=1"],
            "column 5: a conditional expression is not allowed",
            None,
            4,
        ),
        (["L = a < 2", "a=1"], "column 5: a comparison is not allowed", None, 4),
        (["L = a + 'x'", "a=1"], "column 9: only numbers are allowed as constants", None, 8),
        (["L = log(a - 5)", "a=1"], "column 5: Value log(-4.0): log(x) needs x > 0", None, 4),
        (["L = a / (a - 1)", "a=1"], "column 5: Value /(1.0, 0.0): the divisor is 0", None, 4),
        (["L = (a +", "a=1"], "column 5: invalid syntax", "L = (a +", 4),
        (["a + 1", "a=1"], "column 1: an expression on its own is not allowed", None, 0),
        (["L = a; L = a * 2", "a=1"], "L = a only renames a", None, 4),
        (["a = 2", "a=1"], "column 1: a already has a value", None, 0),
        (["exp = 2"], "exp is a function name", None, 0),
        (["L = exp", "a=1"], "exp is a function; call it", None, 4),
        (["x = 1\ny = x + k"], "line 2, column 9: k has no value", "y = x + k", 8),
        (["L = a", "a3"], "column 1: expected NAME=VALUE, like a=3, got 'a3'", "a3", 0),
        (["L = a", "a=x"], "column 3: the value of a must be a number, got 'x'", "a=x", 2),
        (["L = a", "1a=2"], "expected NAME=VALUE", "1a=2", 0),
        (["L = a", "a=1", "a=2"], "a is given twice", "a=2", 0),
        ([""], "nothing to explain", None, None),
    ],
)
def test_errors_point_at_the_offending_token(
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
    line: str | None,
    caret: int | None,
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    first, *rest = err.rstrip("\n").split("\n")
    assert first.startswith("chainrule explain: error") and message in first, err
    if caret is None:
        assert rest == []
    else:
        assert rest[1] == "  " + " " * caret + "^", err
        if line is not None:
            assert rest[0] == "  " + line


def test_graph_picks_the_drawing(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "L = (a + b) * d", "a=3", "b=2", "d=4", "--graph", "mermaid")
    assert out.startswith(MERMAID_EXAMPLE_1)
    _, out, _ = run(capsys, "L = (a + b) * d", "a=3", "b=2", "d=4", "--graph", "text")
    assert out.startswith(OUTLINE_EXAMPLE_1 + "# Backward pass from L\n")
    _, out, _ = run(capsys, "L = (a + b) * d", "a=3", "b=2", "d=4", "--graph", "none")
    assert out.startswith("# Backward pass from L\n")


def test_html_writes_the_stepper(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "steps.html"
    status, out, err = run(capsys, "x = 5; y = x + 2; z = x * 3; L = y * z", "--html", str(target))
    assert (status, err) == (0, "")
    assert out.rstrip().endswith(f"Wrote {target}: open it in a browser to step through the "
                                 "backward pass.")
    page = target.read_text(encoding="utf-8")
    assert "15 + 21 = 36" in page and 'role="status"' in page
    status, out, err = run(capsys, "L = a * 2", "a=1", "--html", str(tmp_path / "no" / "x.html"))
    assert status == 1 and "cannot write" in err


def test_the_subcommand_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "explain" in capsys.readouterr().out
