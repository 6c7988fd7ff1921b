"""What Jupyter shows for a Value or a Tensor: the stepper in an iframe, and a still
picture, styled inline, for notebooks that run no scripts."""

from __future__ import annotations

import html as htmllib
import re

import chainrule as cr
from chainrule import Value
from chainrule.viz import html

from .examples import example_1, example_3, seed_002


def parts(shown: str) -> tuple[str, str]:
    """(the page inside the iframe, the still picture after it)."""
    found = re.search(r'<iframe srcdoc="([^"]*)"[^>]*></iframe>(.*)</div>$', shown, re.S)
    assert found is not None
    return htmllib.unescape(found.group(1)), found.group(2)


def test_a_value_shows_the_stepper_and_a_still_picture() -> None:
    root = example_3()
    root.backward()
    shown = root._repr_html_()
    assert shown is not None
    page, still = parts(shown)
    assert page == html(root)  # the same page as cr.viz.html
    assert 'sandbox="allow-scripts"' in shown
    assert "onload=\"this.nextElementSibling.style.display='none'\"" in shown
    assert "<svg" in still and "<style" not in still and "class=" not in still
    assert "grad: 36" in still  # every gradient, at once
    assert htmllib.escape(repr(root)) in shown


def test_before_backward_the_still_picture_shows_no_zero_gradients() -> None:
    root = example_1()
    _, still = parts(root._repr_html_() or "")
    assert "backward() has not run yet" in still and "grad:" not in still


def test_a_tensor_with_a_graph_shows_it_a_leaf_its_repr() -> None:
    ex = seed_002()
    shown = ex.loss._repr_html_()
    assert shown is not None and "fc1.weight" in shown
    assert ex.model.fc1.weight._repr_html_() is None
    assert Value(1.0)._repr_html_() is None


def test_a_graph_too_large_falls_back_to_the_repr() -> None:
    big = Value(0.0)
    for _ in range(400):
        big = big + 1
    assert big._repr_html_() is None
    t = cr.ones(3, requires_grad=True)
    for _ in range(400):
        t = t * 1.0
    assert t._repr_html_() is None
