"""docs/gpt.md runs as its reader would run it, from the repository's root: every
```python block in order, in one namespace. A ```text block right after a python
block is that block's output, line for line; the indented excerpts of
``cr.explain``'s output further down must appear in what it printed."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "gpt.md"
FENCE = re.compile(r"^( *)```(\w+)\n(.*?)^\1```", re.S | re.M)


def _blocks() -> list[tuple[str, str, int, int, int]]:
    """(kind, text, indent, start, end) of every fenced block, the indent stripped."""
    found = []
    for m in FENCE.finditer(PAGE.read_text(encoding="utf-8")):
        indent = len(m.group(1))
        text = "\n".join(line[indent:] for line in m.group(3).splitlines())
        found.append((m.group(2), text, indent, m.start(), m.end()))
    return found


def test_the_page_runs_and_prints_what_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (ROOT / "examples" / "microgpt.py").exists():
        pytest.skip("examples/ is not next to tests/")
    (tmp_path / "examples").symlink_to(ROOT / "examples")  # the page runs from the root
    monkeypatch.chdir(tmp_path)
    page = PAGE.read_text(encoding="utf-8")
    blocks = _blocks()
    namespace: dict[str, object] = {"__name__": "gpt_page"}
    printed = []
    for i, (kind, text, _indent, _, end) in enumerate(blocks):
        if kind != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(text, f"{PAGE.name}, python block at {end}", "exec"), namespace)  # noqa: S102
        printed.append(out.getvalue())
        if i + 1 < len(blocks):
            kind2, shown, _, start2, _ = blocks[i + 1]
            if kind2 == "text" and not page[end:start2].strip():  # this block's output
                assert out.getvalue().strip() == shown.strip()
    assert len(printed) == 3
    explanation = printed[-1]
    excerpts = [text for kind, text, indent, _, _ in blocks if kind == "text" and indent]
    assert len(excerpts) == 3
    for excerpt in excerpts:
        for line in excerpt.splitlines():
            assert line.strip() in explanation, line
    html = (tmp_path / "attention-head.html").read_text(encoding="utf-8")
    assert "masked" in html and "weights" in html and "<script" in html
