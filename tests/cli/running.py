"""Running the command line in the test's own process."""

from __future__ import annotations

import pytest

from chainrule.cli import main


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``chainrule ARGV``: its exit status (0, or a SystemExit's code), stdout, stderr."""
    try:
        status = main(argv)
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err
