"""Real first names and surnames, shipped with chainrule, for language models.

Source: the name lists of the 1990 United States Census (US Census Bureau,
"Frequently Occurring Surnames and First Names from the 1990 Census"), a work
of the US government and so in the public domain. The files used are the
bureau's ``dist.female.first`` (4,275 names), ``dist.male.first`` (1,219) and
``dist.all.last`` (88,799), as shipped unchanged by the ``names`` 0.3.0
package on the Python Package Index (sdist SHA-256 ``726e4625...a2a671``).

They were converted once to ``names.npz`` next to this file, two arrays of
str named ``first`` and ``last``; ``scripts/make_names_npz.py`` in the source
repository redoes it. The conversion lower-cases every name and keeps nothing
else: every name in the files is made of the letters A-Z only (no spaces,
hyphens, apostrophes or accents), so every name here is made of a-z only.

Order is meaningful and kept: most common first. Surnames keep the census
rank. The 331 first names on both the female and the male list appear once,
and first names are ordered by their estimated share of the whole population
(the mean of the female and male percentages; ties by census rank, then
alphabetically), which puts "james", "john", "robert", "michael", "mary" first.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

NAMES_PATH = Path(__file__).with_name("names.npz")


@cache
def _read(key: str) -> tuple[str, ...]:
    # allow_pickle=False: the arrays are plain str, nothing in the file runs code
    with np.load(NAMES_PATH, allow_pickle=False) as npz:
        names: list[str] = npz[key].tolist()
    return tuple(names)


def load_names() -> list[str]:
    """The 5,163 distinct first names of the 1990 US Census, lower-case a-z.

    Most common first (by share of the whole population), e.g. for a
    character-level language model. Data: US Census Bureau, public domain;
    see :mod:`chainrule.data.names` for the source and how it was converted.
    Nothing is downloaded: the list ships inside chainrule.

    Returns
    -------
    A new list of str on every call (change it freely); the same order every
    time, so shuffle with a seeded generator to split it.

    Example
    -------
    >>> names = load_names()
    >>> len(names), names[:5]
    (5163, ['james', 'john', 'robert', 'michael', 'mary'])
    """
    return list(_read("first"))


def load_surnames() -> list[str]:
    """The 88,799 surnames of the 1990 US Census, lower-case a-z, by census rank.

    Most common first. Data: US Census Bureau, public domain; see
    :mod:`chainrule.data.names` for the source and how it was converted.
    Nothing is downloaded: the list ships inside chainrule.

    Returns
    -------
    A new list of str on every call, in the same order every time.

    Example
    -------
    >>> surnames = load_surnames()
    >>> len(surnames), surnames[:3]
    (88799, ['smith', 'johnson', 'williams'])
    """
    return list(_read("last"))
