"""Forward mode: tangents carried along while the forward computation runs.

``cr.jvp`` opens a *level* (engine/mode.py), attaches each input's tangent to
it, and runs the function. Every op that sees an input with a tangent
computes its output's tangent right then, with its Jacobian-vector product
rule. There is no backward pass.

Levels nest like dual numbers: a tangent at level 2 is a Tensor that may
carry a tangent at level 1. When an op computes its level-L tangent it sees
its inputs with the tangents of level L and above stripped away, which is how
``jacfwd(jacfwd(f))`` gets exact second derivatives with no perturbation
confusion.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..ops import traced
from . import mode
from .base import TensorBase, bare


def tangent_of(t: Any, level: int) -> Any:
    """The tangent ``t`` carries at ``level`` (None if it carries none)."""
    if not isinstance(t, TensorBase) or not t._extra:
        return None
    tangents = t._extra.get("tangents")
    return tangents.get(level) if tangents else None


def set_tangent(t: TensorBase, level: int, tangent: TensorBase) -> None:
    t._extras().setdefault("tangents", {})[level] = tangent


def _levels_of(t: Any, active: list[int]) -> list[int]:
    if not isinstance(t, TensorBase) or not t._extra:
        return []
    tangents = t._extra.get("tangents")
    return [lv for lv in tangents if lv in active] if tangents else []


def push_tangents(op: Any, args: tuple, params: Any, out: TensorBase) -> None:
    """Give ``out`` its tangent at every open level where an input has one."""
    active = mode.local.levels
    levels = sorted({lv for a in args for lv in _levels_of(a, active)})
    if not levels:
        return
    saved = active[:]
    try:
        for level in levels:
            tangents = tuple(tangent_of(a, level) for a in args)
            # Seen from this level, the tangents of this level and above do not
            # exist: the rule runs with only the outer (lower) levels switched on.
            active[:] = [lv for lv in saved if lv < level]
            result = op.tangent(traced, tangents, _alias(out), args, params)
            active[:] = saved
            if result is None:
                continue
            if not isinstance(result, TensorBase):
                result = bare(type(out), backend.array_of(result))
            set_tangent(out, level, result)
    finally:
        active[:] = saved


def _alias(t: TensorBase) -> TensorBase:
    """``t`` for use inside its own tangent rule: while recording, a second node with
    the same history, so the tangent (kept on ``t``) never refers back to ``t``."""
    if t._node is None:
        return t
    a = bare(type(t), t.data, t._requires_grad)
    a._node, a._edges = t._node, t._edges
    tangents = t._extra.get("tangents") if t._extra else None
    a._extra = {"tangents": dict(tangents)} if tangents else None
    return a
