"""Rebuild ``src/chainrule/data/names.npz`` from the 1990 US Census name lists.

Usage::

    pip download names==0.3.0 --no-deps -d SDISTDIR
    python scripts/make_names_npz.py SDISTDIR/names-0.3.0.tar.gz

The ``names`` package ships the Census Bureau's three files unchanged:
``names/dist.female.first``, ``names/dist.male.first`` and
``names/dist.all.last``. Only those members of the archive are read; the
package is neither imported nor installed. Each line of a file holds a name in
capitals, its frequency in percent of the population of that sex (three
decimals), the cumulative frequency and the rank.

What the script does, and checks:

* every name is A-Z only (it stops if not), and is stored lower-cased;
* surnames keep the file's order, the census rank (most common first);
* 331 first names are on both lists: they appear once. First names are ordered
  by their share of the whole population, estimated as the mean of the female
  and the male percentage (a name missing from a list counts 0 there), most
  common first; ties (the percentages are rounded) go to the better census
  rank on either list, then to alphabetical order.

The output holds two arrays of str: ``first`` and ``last``.
"""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path

import numpy as np

MEMBERS = {
    "female": "names-0.3.0/names/dist.female.first",
    "male": "names-0.3.0/names/dist.male.first",
    "last": "names-0.3.0/names/dist.all.last",
}
OUT = Path(__file__).resolve().parent.parent / "src" / "chainrule" / "data" / "names.npz"


Row = tuple[str, float, int]  # name, percent, rank


def parse(text: str, member: str) -> list[Row]:
    """(name, percent, rank) for each line, in the file's order, after checks."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        name, percent, _cumulative, rank = line.split()
        if not (name.isascii() and name.isalpha() and name.isupper()):
            raise SystemExit(f"{member}:{number}: {name!r} is not A-Z only")
        if int(rank) != number:
            raise SystemExit(f"{member}:{number}: rank {rank}, expected {number}")
        rows.append((name.lower(), float(percent), int(rank)))
    if len({name for name, _, _ in rows}) != len(rows):
        raise SystemExit(f"{member}: a name is listed twice")
    return rows


def first_names(female: list[Row], male: list[Row]) -> list[str]:
    """One list of first names, by estimated share of the whole population."""
    share: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    for rows in (female, male):
        for name, percent, rank in rows:
            share[name] = share.get(name, 0.0) + percent / 2
            best_rank[name] = min(rank, best_rank.get(name, rank))
    return sorted(share, key=lambda name: (-share[name], best_rank[name], name))


def main(sdist: str) -> None:
    with tarfile.open(sdist) as tar:
        rows = {}
        for key, member in MEMBERS.items():
            handle = tar.extractfile(member)
            if handle is None:
                raise SystemExit(f"{sdist}: no file {member}")
            rows[key] = parse(handle.read().decode("ascii"), member)
    first = first_names(rows["female"], rows["male"])
    last = [name for name, _, _ in rows["last"]]
    both = len(rows["female"]) + len(rows["male"]) - len(first)
    np.savez_compressed(OUT, first=np.array(first), last=np.array(last))
    print(
        f"wrote {OUT}: {len(first)} first names ({both} on both lists, kept once), "
        f"{len(last)} surnames; most common first names {first[:5]}"
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
