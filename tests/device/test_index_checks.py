"""Index range checks on the device: CuPy wraps an out-of-range index around, so chainrule
checks it, without making the host wait: the check is queued and runs at the next host read."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend

from . import fakecupy


def test_double_wraps_an_out_of_range_index_as_cupy_does(gpu: None) -> None:
    a = fakecupy.asarray(np.arange(3.0))
    assert a[np.array([3, -4])].get().tolist() == [0.0, 2.0]


def test_a_bad_gpu_index_is_reported_at_the_next_host_read_without_a_sync_before(
        gpu: None) -> None:
    x = cr.arange(6.0, device="cuda").reshape(3, 2)
    idx = cr.tensor([0, 3], device="cuda")
    with fakecupy.counting() as syncs:
        y = x[idx]  # wrapped around on the device: row 3 is row 0
        loss = (y * 2).sum()
    assert syncs == []
    with pytest.raises(IndexError, match=r"getitem: index 3 is out of range for axis 0 of size 3"
                                         r".*next|host read"):
        loss.item()
    assert backend._PENDING == []  # reported once
    assert np.isfinite(loss.item())


def test_good_gpu_indices_cost_one_sync_at_the_host_read(gpu: None) -> None:
    x = cr.arange(6.0, device="cuda", requires_grad=True)
    for _ in range(5):
        loss = x[cr.tensor([-6, 5, 2], device="cuda")].sum()
    with fakecupy.counting() as syncs:
        assert loss.item() == 0.0 + 5.0 + 2.0
    assert [what for what, _ in syncs] == ["get", "item"]  # the queued checks, then the value
    assert backend._PENDING == []


def test_negative_indices_and_setitem_and_other_axes(gpu: None) -> None:
    x = cr.zeros(2, 4, device="cuda")
    x[:, cr.tensor([-4, 3], device="cuda")] = 1.0
    assert x.cpu().numpy().sum() == 4.0
    x[..., cr.tensor([4], device="cuda")] = 2.0
    with pytest.raises(IndexError, match="setitem: index 4 is out of range for axis 1 of size 4"):
        print(x)


def test_a_long_run_without_host_reads_still_checks(gpu: None) -> None:
    x = cr.ones(3, device="cuda")
    with pytest.raises(IndexError, match="getitem: index 7"):
        for _ in range(backend._PENDING_LIMIT):
            x[cr.tensor([7], device="cuda")]
    assert backend._PENDING == []


def test_on_the_cpu_the_check_is_immediate() -> None:
    with pytest.raises(IndexError, match="getitem"):
        cr.ones(3)[cr.tensor([3])]
    with pytest.raises(IndexError, match="emb: 9 not in"):
        backend.check_range(np.array([1, 9]), 0, 5, "emb: {} not in [0, 5)")
    backend.check_range(np.array([-5, 4]), -5, 5, "never")
    backend.check_range(np.array([], dtype=int), 0, 0, "never")
