"""The shipped 1990 US Census first names and surnames."""

from __future__ import annotations

import doctest
import string
from unittest import mock

import numpy as np
import pytest

import chainrule as cr
import chainrule.data.names as names_module

LOADERS = {"first": cr.data.load_names, "last": cr.data.load_surnames}


@pytest.mark.parametrize(
    ("loader", "low", "high"),
    [(cr.data.load_names, 5_000, 5_500), (cr.data.load_surnames, 88_000, 89_000)],
)
def test_counts_in_the_expected_range(loader, low, high) -> None:  # type: ignore[no-untyped-def]
    names = loader()
    assert low <= len(names) <= high
    assert all(type(name) is str for name in names)


@pytest.mark.parametrize("loader", LOADERS.values())
def test_lower_case_a_to_z_no_duplicates(loader) -> None:  # type: ignore[no-untyped-def]
    names = loader()
    letters = set(string.ascii_lowercase)
    assert all(name and set(name) <= letters for name in names)
    assert len(set(names)) == len(names)
    assert set("".join(names)) == letters  # every letter is used somewhere


@pytest.mark.parametrize("loader", LOADERS.values())
def test_deterministic_and_a_fresh_list_per_call(loader) -> None:  # type: ignore[no-untyped-def]
    first = loader()
    first.append("not a name")
    first[0] = "changed"
    second = loader()
    assert second == loader()
    assert second[0] != "changed" and "not a name" not in second


def test_census_frequency_order_is_kept() -> None:
    # the census's most common names lead, in census order
    assert cr.data.load_surnames()[:5] == ["smith", "johnson", "williams", "jones", "brown"]
    first = cr.data.load_names()
    assert first[:5] == ["james", "john", "robert", "michael", "mary"]
    # the most common female names keep their census order among themselves
    female = ["mary", "patricia", "linda", "barbara", "elizabeth", "jennifer"]
    assert [first.index(name) for name in female] == sorted(first.index(n) for n in female)
    # and the rarest ones come last (rank 4,275 on the female list: "allyn")
    assert first.index("allyn") > len(first) - 50


def test_first_names_on_both_lists_appear_once() -> None:
    first = cr.data.load_names()
    for name in ("james", "mary", "jessie", "willie"):  # on the female and the male list
        assert first.count(name) == 1


def test_the_file_is_read_without_pickle() -> None:
    calls = []
    real_load = np.load

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)

    names_module._read.cache_clear()
    try:
        with mock.patch.object(names_module.np, "load", spy):
            assert len(cr.data.load_names()) > 0
            assert len(cr.data.load_surnames()) > 0
    finally:
        names_module._read.cache_clear()
    assert calls == [False, False]
    with np.load(names_module.NAMES_PATH, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["first", "last"]
        assert all(npz[key].dtype.kind == "U" for key in npz.files)


def test_docstring_examples() -> None:
    failures, tried = doctest.testmod(names_module, verbose=False)
    assert tried > 0 and failures == 0
