"""The stepper in a real browser: Debian's Chromium, driven by Playwright's Python package
(no browser download). Every request the page makes is recorded and blocked.

Without Chromium or playwright these tests skip, naming what to install; with
CI=true they fail instead. Screenshots of the first, middle and last steps go
to $CHAINRULE_ARTIFACTS when it is set, else to pytest's temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import chainrule as cr

from .examples import attention_head, example_3, seed_002

ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHAINRULE_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("the playwright Python package (pip install playwright; never "
                       "`playwright install`)")
    executable = _chromium()
    if executable is None:
        missing.append("Chromium (apt-get install chromium)")
    if missing:
        message = "the browser tests need " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: " + message)
        pytest.skip(message)
    args = ARGS + (["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=args, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    base = os.environ.get("CHAINRULE_ARTIFACTS")
    root = Path(base) if base else tmp_path_factory.mktemp("screenshots")
    folder = root / request.node.name.replace("[", "_").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Stepper:
    """One page of the stepper, opened from a file, with every request recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.page = browser.new_page(viewport={"width": 1200, "height": 820})
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.route("**/*", self._only_the_page)
        self.page.goto(self.url)
        self.status = self.page.get_by_role("status")
        self.next = self.page.get_by_role("button", name="Next")
        self.back = self.page.get_by_role("button", name="Back")

    def _only_the_page(self, route: Any) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            route.abort()

    def text(self) -> str:
        return str(self.status.inner_text())

    def count(self) -> int:
        return int(self.page.locator("#counter").inner_text().split()[-1])

    def grad_line(self, node: int) -> str:
        return str(self.page.locator(f"#n{node}g0").text_content())

    def classes(self, ident: str) -> str:
        return str(self.page.locator(f"#{ident}").get_attribute("class") or "")

    def walk_through(self, shots: Path) -> list[str]:
        """Press Next through every step, screenshots at the start, middle and end."""
        n = self.count()
        texts = [self.text()]
        self.page.screenshot(path=str(shots / "start.png"), full_page=True)
        for k in range(1, n):
            self.next.click()
            texts.append(self.text())
            if k == n // 2:
                self.page.screenshot(path=str(shots / "middle.png"), full_page=True)
        self.page.screenshot(path=str(shots / "end.png"), full_page=True)
        return texts


def test_seed_003_example_3_in_a_browser(browser: Any, tmp_path: Path, shots: Path) -> None:
    root = example_3()
    root.backward()
    page = Stepper(browser, cr.viz.save_html(root, tmp_path / "example3.html"))
    assert page.count() == 6
    assert page.text().startswith("Start at L = 105")
    assert page.back.is_disabled() and page.grad_line(0) == ""  # x has no gradient yet
    assert "current" in page.classes("n5")  # L, where the pass starts
    texts = page.walk_through(shots)
    assert any(t.endswith("all paths in: ∂L/∂x = 15 + 21 = 36") for t in texts)
    assert "3 × 7 = 21" in texts[4]
    assert page.next.is_disabled() and texts[-1].startswith("Done:")
    assert page.grad_line(0) == "grad: 36" and page.grad_line(2) == "grad: 15"
    page.back.click()  # Back: the step with the sum again, x and its edge highlighted
    assert page.text() == texts[-2]
    assert "current" in page.classes("n0") and "current" in page.classes("e4_0")
    assert "upstream" in page.classes("n4")  # z, whose gradient comes back
    page.page.keyboard.press("ArrowLeft")
    assert page.text() == texts[-3] and page.grad_line(0) == "grad: 15"  # the running sum
    page.page.keyboard.press("ArrowRight")
    assert page.text() == texts[-2]
    assert page.requests == [page.url]  # nothing but the page itself
    for name in ("start", "middle", "end"):
        assert (shots / f"{name}.png").stat().st_size > 5000


def test_a_tensor_graph_in_a_browser(browser: Any, tmp_path: Path, shots: Path) -> None:
    ex = seed_002()
    page = Stepper(browser, cr.viz.save_html(ex.loss, tmp_path / "seed002.html"))
    texts = page.walk_through(shots)
    assert any("∂loss/∂fc1.weight = (∂loss/∂fc1.out)ᵀ · x" in t for t in texts)
    assert any("∂loss/∂fc1.bias = Σ over the batch of ∂loss/∂fc1.out" in t for t in texts)
    weight = next(i for i, t in enumerate(texts) if t.startswith("fc1.weight ←"))
    assert page.page.locator("#picture").inner_text().count("fc1: Linear(3 → 2)") == 1
    for _ in range(len(texts) - 1 - weight):
        page.back.click()
    assert page.text() == texts[weight]
    assert page.requests == [page.url]


def test_before_backward_the_browser_shows_the_banner(browser: Any, tmp_path: Path) -> None:
    page = Stepper(browser, cr.viz.save_html(example_3(), tmp_path / "early.html"))
    assert page.page.locator("#banner").is_visible()
    assert "has not run" in page.page.locator("#banner").inner_text()
    assert page.requests == [page.url]


def test_an_attention_head_with_a_blocked_score_in_a_browser(
    browser: Any, tmp_path: Path, shots: Path
) -> None:
    """docs/gpt.md's head: a -inf score and its zero gradient are shown, step by step."""
    page = Stepper(browser, cr.viz.save_html(attention_head(), tmp_path / "head.html"))
    texts = page.walk_through(shots)
    assert len(texts) == page.count() >= 10
    where = next(t for t in texts if t.startswith("scores ← masked = where("))
    assert "= [[1, 0], [1, 1]]" in where  # the blocked score gets no gradient
    assert "So ∂loss/∂scores = [[0, 0], [-0.6931, 0.6931]]" in where
    assert any(t.startswith("masked ← weights = softmax(masked)") for t in texts)
    assert texts[-1].startswith("Done:")
    assert "-inf" in page.page.locator("#picture").inner_text()
    assert page.requests == [page.url]
