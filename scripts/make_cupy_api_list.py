"""Write the list of CuPy's documented API, for tests/device/test_cupy_api.py.

CuPy's API reference (docs/source/reference/*.rst in CuPy's repository) lists
every documented function in ``autosummary`` blocks under a ``currentmodule``.
This script collects those names, qualified (``cupy.add``, ``cupyx.scatter_add``,
``cupy.random.Generator``), one per line.

Usage::

    python scripts/make_cupy_api_list.py CUPY_REPO/docs/source/reference \\
        > tests/device/cupy_api.txt
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def names(reference: Path) -> set[str]:
    found: set[str] = set()
    for rst in sorted(reference.glob("*.rst")):
        module = "cupy"
        in_block = False
        for line in rst.read_text().splitlines():
            current = re.match(r"\.\. (?:current)?module:: (\S+)", line)
            if current:
                module = current.group(1)
                continue
            if line.startswith(".. autosummary::"):
                in_block = True
                continue
            if in_block:
                item = line.strip()
                if not line.startswith(" ") and item:
                    in_block = False  # the block ended at an unindented line
                    continue
                if not item or item.startswith((":", "#")):  # options, commented-out names
                    continue
                qualified = item if item.startswith(("cupy.", "cupyx.")) else f"{module}.{item}"
                found.add(qualified)
    return found


if __name__ == "__main__":
    print("\n".join(sorted(names(Path(sys.argv[1])))))
