"""``Op``, one differentiable primitive on arrays, and ``REGISTRY``, every op by name.

An op is a forward on arrays and its derivative rules, written side by side.
This layer knows nothing of ``Tensor``: the engine (``chainrule.engine``)
records ops into graphs, and the registry tells it, and the reader, what each
op is called and what its rules are.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

Rule = Callable[..., Any]


class Op:
    """A differentiable primitive: forward on arrays, and its derivative rules.

    ``forward(*arrays, **params)`` computes the output array. ``vjps[i](m, g,
    y, *inputs, **params)`` is the vector-Jacobian product for input ``i``:
    given ``g`` = ∂L/∂y it returns ∂L/∂(input i) (``None``: not
    differentiable in that input). ``m`` is the namespace the rule computes
    with: ``chainrule.backend`` on arrays, or ``chainrule.ops.traced`` on
    Tensors when the derivative must itself be differentiable. ``g`` may
    carry extra leading (batch) axes, so rules address axes from the end;
    inputs that were broadcast are summed back to shape by the engine, in one
    place, never by a rule.

    ``jvp(m, tangents, y, *inputs, **params)`` pushes input tangents forward
    (``None`` for an input without one). An elementwise op needs none: its
    Jacobian is diagonal, so its VJP rule applied to a tangent is its JVP.

    ``saves`` names what the rules read besides ``g``: input positions, and
    ``"out"`` for the output. Changing one of those in place after the op ran
    makes its backward refuse (see ``Tensor.add_``); ``None`` means "assume
    everything". ``describe(*arrays)``, if given, says why inputs that made
    ``forward`` raise ValueError do not fit.
    """

    __slots__ = (
        "name", "forward", "vjps", "jvp", "elementwise", "batchable", "saves", "describe",
        "formula", "plain", "exact", "rules_for",
    )

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        vjps: Sequence[Rule | None] | Rule,
        jvp: Rule | None = None,
        *,
        formula: str = "",
        saves: tuple[int | str, ...] | None = None,
        elementwise: bool = False,
        batchable: bool = True,
        describe: Callable[..., str] | None = None,
    ) -> None:
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.jvp = jvp
        self.formula = formula
        self.saves = saves
        self.elementwise = elementwise
        self.batchable = batchable
        self.describe = describe
        # plain: one rule per input, called directly by the sweep (no vjp_all override)
        self.plain = not callable(vjps) and type(self).vjp_all is Op.vjp_all
        # exact: a one-input op's rule returns its input's shape and dtype
        # (only ops with several inputs broadcast or mix dtypes)
        self.exact = self.plain and len(vjps) == 1  # type: ignore[arg-type]
        # rules_for[needs]: the (input index, rule) pairs the sweep runs for a node
        # whose inputs need gradients as ``needs`` says, worked out once per pattern
        self.rules_for: dict[tuple[bool, ...], tuple[tuple[int, Rule], ...]] = {}
        if self.plain and len(vjps) <= 4:  # type: ignore[arg-type]
            for needs in itertools.product((False, True), repeat=len(vjps)):  # type: ignore[arg-type]
                self.rules_for[needs] = tuple(
                    (i, rule)
                    for i, (rule, need) in enumerate(zip(vjps, needs, strict=True))  # type: ignore[arg-type]
                    if need and rule is not None
                )

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def differentiable(self, i: int) -> bool:
        return callable(self.vjps) or self.vjps[i] is not None

    def vjp_all(
        self, m: Any, g: Any, out: Any, inputs: tuple, params: Any, needed: Sequence[bool]
    ) -> list[Any]:
        """The gradient for each needed input (``None`` elsewhere)."""
        vjps = self.vjps
        if callable(vjps):  # variadic op: one rule taking the input's index
            return [
                vjps(i, m, g, out, *inputs, **params) if need else None
                for i, need in enumerate(needed)
            ]
        return [
            rule(m, g, out, *inputs, **params) if need and rule else None
            for rule, need in zip(vjps, needed, strict=True)
        ]

    def tangent(self, m: Any, tangents: tuple, out: Any, inputs: tuple, params: Any) -> Any:
        """The output's tangent given the inputs' tangents (``None`` = zero)."""
        if self.jvp is not None:
            return self.jvp(m, tangents, out, *inputs, **params)
        if not self.elementwise:
            raise NotImplementedError(f"{self.name} has no forward-mode (jvp) rule")
        total = full = None
        for i, t in enumerate(tangents):
            if t is None or not self.differentiable(i):
                continue
            x = inputs[i]
            lead = t.ndim - _ndim(x)
            if lead and _ndim(x) < _ndim(out):  # line the tangent up with the output's axes
                t = m.reshape(t, t.shape[:lead] + (1,) * (_ndim(out) - _ndim(x)) + x.shape)
            term = self.vjp_all(m, t, out, inputs, params, [j == i for j in range(len(inputs))])[i]
            total = term if total is None else total + term
            full = tuple(t.shape[:lead]) + tuple(out.shape)
        if total is not None and tuple(total.shape) != full:  # e.g. the tangent of a + b
            total = m.broadcast_to(total, full)  # where only the smaller input moves
        return total


def _ndim(x: Any) -> int:
    return x.ndim if hasattr(x, "ndim") else 0


# ---------------------------------------------------------------- the registry
class OpInfo(NamedTuple):
    """One entry of the registry: what a public operation is called and what it is.

    ``op`` is the primitive (``None`` for a composite, which is built from
    primitives and so needs no rule of its own). ``function`` is its name at
    the top level (``cr.exp``), ``methods`` its Tensor methods and operators
    (``"exp"``, ``"__add__"``); ``formula`` the math, one line, and the family
    file where its forward and rules are written.
    """

    name: str
    op: Op | None
    function: str | None
    methods: tuple[str, ...]
    formula: str
    family: str

    @property
    def kind(self) -> str:
        return "primitive" if self.op is not None else "composite"


REGISTRY: dict[str, OpInfo] = {}


def register(
    name: str,
    op: Op | None = None,
    *,
    function: str | None = None,
    methods: str = "",
    formula: str = "",
    family: str,
) -> None:
    """Add an operation to ``REGISTRY`` (each name once). ``methods`` is a
    space-separated list; the formula defaults to the op's own."""
    if name in REGISTRY:
        raise ValueError(f"register: {name!r} is registered twice")
    text = formula or (op.formula if op is not None else "")
    if not text:
        raise ValueError(f"register: {name!r} needs a formula")
    REGISTRY[name] = OpInfo(name, op, function, tuple(methods.split()), text, family)
