"""``ignore_index`` in the cross-entropy and the NLL loss, checked by hand (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.gradcheck import gradcheck
from chainrule.nn import functional as F

rng = np.random.default_rng(5)


def _by_hand(x: np.ndarray, t: np.ndarray, keep: np.ndarray) -> np.ndarray:
    lse = np.log(np.exp(x).sum(axis=1))
    return lse[keep] - x[np.flatnonzero(keep), t[keep]]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_padding_targets_count_for_nothing(reduction: str) -> None:
    x = rng.normal(size=(6, 5))
    t = np.array([1, -100, 4, 0, -100, 2])
    keep = t != -100
    xt = cr.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, t, reduction=reduction)
    each = _by_hand(x, t, keep)
    if reduction == "none":
        want = np.zeros(6)
        want[keep] = each
        np.testing.assert_allclose(loss.data, want, rtol=1e-12)
        loss.sum().backward()
    else:
        want = each.mean() if reduction == "mean" else each.sum()
        np.testing.assert_allclose(loss.item(), want, rtol=1e-12)
        loss.backward()
    assert (xt.grad.data[~keep] == 0).all()
    assert (xt.grad.data[keep] != 0).all()


def test_the_mean_is_over_the_counted_targets_and_gradcheck() -> None:
    x = rng.normal(size=(4, 3))
    t = np.array([2, -100, -100, 0])
    whole = F.cross_entropy(cr.tensor(x), t).item()
    kept = F.cross_entropy(cr.tensor(x[[0, 3]]), t[[0, 3]]).item()
    assert whole == pytest.approx(kept, rel=1e-12)
    assert gradcheck(lambda z: F.cross_entropy(z, t), (cr.tensor(x, requires_grad=True),))
    x3 = rng.normal(size=(2, 3, 4))
    t3 = np.array([[0, -100, 2, 1], [-100, -100, 1, 0]])
    assert gradcheck(lambda z: F.cross_entropy(z, t3), (cr.tensor(x3, requires_grad=True),))
    assert gradcheck(lambda z: F.nll_loss(z, t3, reduction="none"),
                     (cr.tensor(x3, requires_grad=True),))


def test_loss_layers_take_ignore_index_and_out_of_range_targets_are_still_refused() -> None:
    x = cr.tensor(rng.normal(size=(3, 4)))
    t = np.array([0, 9, 3])
    assert nn.CrossEntropyLoss(ignore_index=9)(x, t).item() == pytest.approx(
        F.cross_entropy(x[[0, 2]], t[[0, 2]]).item())
    assert nn.NLLLoss(ignore_index=9)(x, t).item() == pytest.approx(
        F.nll_loss(x[[0, 2]], t[[0, 2]]).item())
    assert "ignore_index=9" in repr(nn.CrossEntropyLoss(ignore_index=9))
    with pytest.raises(IndexError, match="target 9 is out of range for 4 classes"):
        F.cross_entropy(x, t)
