"""The checks behind ``cr.detect_anomaly()``: where did the first NaN or infinity come from?

While it is on, every op's output is checked as it is made, and every gradient
as the backward pass computes it. An op that turns finite inputs into an
infinity, or inputs without NaN into a NaN, raises ``cr.AnomalyError`` at
once, naming the op, its inputs, and the line of your code that called it.
Each op also remembers that line, so a NaN appearing in a backward pass names
the line that made the op whose rule produced it.
"""

from __future__ import annotations

import linecache
import sys
from pathlib import Path
from typing import Any

from ..backend import xp
from ..errors import AnomalyError
from ..ops._util import raw
from .base import TensorBase

_PACKAGE = str(Path(__file__).resolve().parents[1])


def user_line() -> str:
    """Where the user's code called into chainrule: "file:line, in function: source"."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "(inside chainrule)"
    code = frame.f_code
    source = linecache.getline(code.co_filename, frame.f_lineno).strip()
    return f"{code.co_filename}:{frame.f_lineno}, in {code.co_name}: {source}"


def _bad(a: Any) -> tuple[bool, bool]:
    """(has NaN, has an infinity), for a floating array; (False, False) otherwise."""
    a = raw(a)
    if not hasattr(a, "dtype") or a.dtype.kind not in "fc":
        return False, False
    finite = xp.isfinite(a)
    if finite.all():
        return False, False
    nan = bool(xp.isnan(a).any())
    return nan, bool((~finite).any() and (~finite & ~xp.isnan(a)).any())


def _describe(t: Any) -> str:
    if isinstance(t, TensorBase):
        what = f"{t.label}, a tensor" if t.label else "a tensor"
        return f"{what} of shape {t.shape} ({t.dtype})"
    return f"a constant of shape {xp.shape(raw(t))}"


def check_forward(op: Any, args: tuple, out: TensorBase) -> None:
    """Raise if ``op`` made a NaN its inputs did not have, or an infinity from finite inputs."""
    where = user_line()
    if out._node is not None:
        out._extras()["made_at"] = where
    nan, inf = _bad(out.data)
    if not (nan or inf):
        return
    seen = [_bad(a) for a in args]
    new_nan = nan and not any(n for n, _ in seen)
    new_inf = inf and not any(n or i for n, i in seen)
    if new_nan or new_inf:
        what = "NaN" if new_nan else "an infinity"
        count = int((~xp.isfinite(out.data)).sum())
        inputs = ", ".join(_describe(a) for a in args)
        raise AnomalyError(
            f"{op.name} made {what} ({count} of {out.data.size} element(s)) from inputs "
            f"{inputs}; called at {where}"
        )


def check_backward(node: Any, i: int, g: Any, gp: Any) -> None:
    """Raise if the rule of ``node``'s op for input ``i`` made a NaN or infinity from a
    gradient ``g`` that had none."""
    nan, inf = _bad(gp)
    if (nan or inf) and not any(_bad(g)):
        op = node._node[0]
        made = (node._extra or {}).get("made_at", "(made before detect_anomaly() was on)")
        what = "NaN" if nan else "an infinity"
        raise AnomalyError(
            f"the backward rule of {op.name} gave {what} for its input {i}, "
            f"{_describe(node._node[1][i])}, from a finite gradient; {op.name} was "
            f"called at {made}. Its rule: {op.formula}"
        )
