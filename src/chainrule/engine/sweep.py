"""The reverse sweep: backpropagation through a tensor graph, in one walk.

Every tensor took a number when it was made, counting down, so a tensor's
inputs always have higher numbers than the tensor: "newest first" is a
reverse topological order, known before any traversal. The sweep keeps the
nodes waiting for their gradient in a heap keyed on that number, starting
with the root. It pops the newest, whose consumers have all handed it their
gradient by then, and runs one step for it:

1. the hooks registered on it may change its gradient;
2. each input that needs a gradient gets one from the op's rule for that
   input (a vector-Jacobian product: no Jacobian is ever formed);
3. a gradient is summed back to its input's shape if the input was
   broadcast, and cast to its dtype;
4. it is added to the input's running total; an input reached for the first
   time joins the heap (a leaf waits for the end instead);
5. the node keeps the gradient it received, for pictures and explanations,
   and marks itself as used: unless ``retain_graph``, a second backward pass
   through it is refused, and a gate releases what it saved for its rule. The
   graph's structure stays, so it can still be drawn and explained.

When the heap is empty each leaf adds its total into ``.grad``, so a sweep
refused halfway (it reached a released node) leaves every ``.grad`` as it was.

The same walk serves ``backward()`` and the transforms: with ``inputs`` it
stops at those tensors and returns their gradients instead of touching
``.grad``; with ``create_graph`` the rules run on Tensors (``ops.traced``)
and are recorded, so the gradients can be differentiated again; a seed with
extra leading axes pushes many cotangents through at once (``jacrev``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from typing import Any

from .. import backend
from ..backend import ndarray, xp
from ..errors import GraphError, ShapeError
from ..ops import traced
from . import anomaly, mode
from .base import TensorBase

NO_PARAMS: dict[str, Any] = {}  # the params of an op recorded without any (shared)
_LEAVES = threading.Lock()  # held while a backward pass adds into leaves' .grad
# The number taken by the latest in-place change to any tensor: a node made
# before it (a higher number) may have had something it saved changed since.
INPLACE = [1]


# After a backward pass, a node's _pending slot holds the gradient it received,
# wrapped: (g,) once the pass has released it (a second pass is refused), [g]
# when it was retained (retain_graph=True: it may go again). While a pass runs,
# _pending is the running total, a plain array or Tensor; None if none yet.


def received(t: Any) -> Any:
    """The gradient ``t`` received in the latest plain ``backward()`` through it (None if
    none reached it, or if that pass recorded its own graph or stopped at inputs)."""
    kept = t._pending
    return kept[0] if type(kept) is tuple or type(kept) is list else None


def released_error(node: Any) -> GraphError:
    return GraphError(
        f"backward: the graph through {node._node[0].name} was already used by an earlier "
        "backward(), which freed what its ops saved; pass retain_graph=True to the first "
        "backward() to go through it again"
    )


def sweep(
    root: Any,
    seed: Any,
    wrap: Callable[[Any], Any],
    *,
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Any] | None = None,
) -> list[Any] | None:
    """Propagate ``seed`` (∂root, shaped like ``root`` plus any leading batch axes)
    back through the graph. ``wrap`` makes a leaf Tensor of an array.

    With ``inputs=None`` gradients accumulate into the ``.grad`` of every leaf
    that requires grad. With ``inputs`` the sweep stops at those tensors,
    leaves every ``.grad`` alone and returns their gradients (``None`` where
    the root does not depend on one).
    """
    m: Any = traced if create_graph else backend
    stop = set(inputs) if inputs is not None else None
    useful = _leading_to(root, stop) if stop is not None else None
    nb_root = root.data.ndim
    batched = _ndim(seed) != nb_root
    free = not retain_graph
    heap: list[tuple[int, Any]] = []
    # Leaves (and the inputs a transform stops at) need no order: their gradients
    # add up here, in a dict (not on the tensor: a parameter may be shared by
    # sweeps running in other threads).
    sink: dict[Any, Any] = {}
    if root._node is None or (stop is not None and root in stop):
        sink[root] = seed
    elif type(root._pending) is tuple:
        raise released_error(root)
    else:
        root._pending = seed
        heap.append((root._seq, root))
    transform = stop is not None
    special = transform or create_graph or batched  # else: the everyday backward()
    changed = INPLACE[0]  # the latest in-place change (none can happen during the sweep)
    watching = mode.watching()  # detect_anomaly(): check every gradient
    nb = 0  # the batch axes the gradients carry (only with a batched seed)
    keep = not transform and not create_graph  # keep each node's gradient (see received)
    # Rules record only for create_graph; otherwise they run on arrays (and a
    # gate's own backward switches recording off for itself).
    before = mode._set_recording(True) if create_graph else None
    try:
        while heap:
            node = heappop(heap)[1]
            g = node._pending
            node._pending = None
            if node._extra:
                g = _node_extras(node, g, create_graph, wrap)
            op, parents, ins, needs, params = node._node
            if changed < node._seq:  # something changed in place since this node was made
                _check_saved(node)
            if special:
                if useful is not None:  # run only the rules that lead to the inputs
                    needs = tuple(n and p in useful for p, n in zip(parents, needs, strict=True))
                if create_graph:  # the rules get Tensors, and are recorded
                    out, ins = node, parents
                else:
                    out = node.data
                nb = g.ndim - node.data.ndim if batched else 0
                exact = op.exact and not nb
                pairs = op.rules_for.get(needs) if op.plain and (not nb or op.batchable) else None
            else:
                out = node.data
                exact = op.exact  # a one-input op: its rule returns the input's shape and dtype
                pairs = op.rules_for.get(needs) if op.plain else None
            computed = pairs is None
            if computed:  # a gate's own vjp_all, an op of many inputs, or a batch
                values = (_vjp_slices(op, m, g, out, ins, params, needs, nb)
                          if nb and not op.batchable
                          else op.vjp_all(m, g, out, ins, params, needs))
                if free and hasattr(op, "release"):
                    op.release(params)
                pairs = tuple((i, v) for i, v in enumerate(values) if v is not None and needs[i])
            for i, rule in pairs:  # type: ignore[union-attr]
                if computed:
                    gp = rule  # vjp_all computed it already
                elif params is not NO_PARAMS:
                    gp = rule(m, g, out, *ins, **params)
                elif exact:
                    gp = rule(m, g, out, ins[0])
                elif len(ins) == 2:
                    gp = rule(m, g, out, ins[0], ins[1])
                else:
                    gp = rule(m, g, out, *ins)
                if watching:
                    anomaly.check_backward(node, i, g, gp)
                p = parents[i]
                if not exact:
                    pd = p.data
                    if gp.shape[nb:] != pd.shape:  # the input was broadcast: sum back to its shape
                        gp = _unbroadcast(m, gp, nb, op, p)
                    if gp.dtype is not pd.dtype and gp.dtype != pd.dtype:
                        gp = gp.astype(pd.dtype)
                if p._node is None or transform and p in stop:  # type: ignore[operator]
                    prev = sink.get(p)
                    sink[p] = gp if prev is None else prev + gp
                    continue
                prev = p._pending
                if prev is None or type(prev) is list:  # the first gradient to reach p:
                    p._pending = gp  # it joins the sweep
                    heappush(heap, (p._seq, p))
                elif type(prev) is tuple:
                    raise released_error(p)
                else:
                    p._pending = prev + gp
            if free:
                node._pending = (g if keep else None,)
            elif keep:
                node._pending = [g]
    except BaseException:
        for _, t in heap:  # forget what was waiting
            t._pending = None
        raise
    finally:
        if before is not None:
            mode._set_recording(before)
    if stop is None:
        _accumulate_leaves(sink, create_graph, wrap, seed)
        return None
    return [sink.get(t) for t in inputs]  # type: ignore[union-attr]


def _ndim(x: Any) -> int:
    return x.ndim if hasattr(x, "ndim") else 0


def _node_extras(node: Any, g: Any, create_graph: bool, wrap: Callable[[Any], Any]) -> Any:
    """What a node's rarely-used extras do to its gradient: hooks may change it, and
    ``retain_grad()`` keeps it in ``.grad``."""
    extra = node._extra
    if "hooks" in extra:
        g = _run_hooks(node, g, create_graph, wrap)
    if extra.get("retain"):
        node.grad = _add(node.grad, g if create_graph else wrap(g))
    return g


def _add(total: Any, g: Any) -> Any:
    return g if total is None else total + g


def _leading_to(root: Any, stop: set) -> set:
    """The nodes on some path from ``root`` down to a tensor in ``stop``: only their
    rules need to run when a transform asks for the gradients of ``stop``."""
    order: list[Any] = []
    seen = {root}
    todo = [root]
    while todo:  # every node below root, not crossing a stop
        t = todo.pop()
        order.append(t)
        if t in stop:
            continue
        for p in t._edges:
            if p not in seen:
                seen.add(p)
                todo.append(p)
    useful = set(stop) & seen
    for t in sorted(order, key=_seq_of):  # oldest first: inputs before consumers
        if t not in useful and any(p in useful for p in t._edges):
            useful.add(t)
    return useful


def _seq_of(t: Any) -> int:
    return -t._seq  # type: ignore[no-any-return]


def _check_saved(node: Any) -> None:
    """Refuse a node whose op saved something that was changed in place since, or
    one of whose inputs took on a newer history (an in-place op recorded after
    this node used it: its gradient would flow to the wrong version)."""
    op, parents, _, _, _ = node._node
    for i, p in enumerate(parents):
        if isinstance(p, TensorBase) and p._seq < node._seq:
            name = f" ({p.label})" if p.label else ""
            raise GraphError(
                f"backward: input {i}{name} of {op.name} was changed in place after "
                f"{op.name} used it; change a copy instead (t = t.clone()) or use an "
                "out-of-place op (t = t + u)"
            )
    saves = op.saves if op.saves is not None else (*range(len(parents)), "out")
    for s in saves:
        t = node if s == "out" else parents[s]
        stamp = t._extra.get("changed") if isinstance(t, TensorBase) and t._extra else None
        if stamp is not None and stamp < node._seq:
            what = "its output" if s == "out" else f"its input {s}"
            name = f" ({t.label})" if t.label else ""
            raise GraphError(
                f"backward: {op.name} needs {what}{name} (shape {t.shape}), which was changed "
                "in place after the op used it, so its gradient would be wrong; change a copy "
                "instead (t = t.clone()) or do the in-place change after backward()"
            )


def _unbroadcast(m: Any, gp: Any, nb: int, op: Any, p: Any) -> Any:
    try:
        return m.sum_to(gp, p.data.shape, nb)
    except ValueError:
        raise ShapeError(
            f"{op.name}: the gradient rule returned shape {gp.shape}, which does not reduce "
            f"to the input's shape {p.shape}"
        ) from None


def _vjp_slices(
    op: Any, m: Any, g: Any, out: Any, ins: tuple, params: Any, needed: Any, nb: int
) -> list[Any]:
    """Run a rule that knows no batch axes once per cotangent, then stack the results."""
    flat = m.reshape(g, (-1,) + g.shape[nb:])
    rows = [op.vjp_all(m, flat[k], out, ins, params, needed) for k in range(flat.shape[0])]
    stacked: list[Any] = []
    for i, need in enumerate(needed):
        if not need or rows[0][i] is None:
            stacked.append(None)
            continue
        parts = [m.reshape(r[i], (1,) + tuple(r[i].shape)) for r in rows]
        full = m.concatenate(parts, 0)
        stacked.append(m.reshape(full, g.shape[:nb] + tuple(full.shape[1:])))
    return stacked


def _run_hooks(node: Any, g: Any, create_graph: bool, wrap: Callable[[Any], Any]) -> Any:
    for hook in node._extra.get("hooks", ()):
        gt = g if isinstance(g, TensorBase) else wrap(g)
        new = hook(gt)
        if new is not None:
            new_data = new.data if isinstance(new, TensorBase) else backend.array_of(new)
            if new_data.shape != gt.shape:
                raise ShapeError(
                    f"hook: returned a gradient of shape {new_data.shape}, expected {gt.shape}"
                )
            if create_graph:
                g = new if isinstance(new, TensorBase) else wrap(new_data)
            else:
                g = new_data
    return g


def _accumulate_leaves(
    sink: dict[Any, Any], create_graph: bool, wrap: Callable[[Any], Any], seed: Any
) -> None:
    """Add each leaf's gradient into its ``.grad`` (once every rule has run), copying
    any array another tensor may share (a seed given by the user, a view)."""
    claimed = {id(seed)}
    with _LEAVES:  # another thread's backward() may be adding into the same leaves
        _accumulate_into(sink, create_graph, wrap, claimed)


def _accumulate_into(sink: dict[Any, Any], create_graph: bool, wrap: Callable[[Any], Any],
                     claimed: set[int]) -> None:
    for leaf, g in sink.items():
        extra = leaf._extra
        if extra and "hooks" in extra:
            g = _run_hooks(leaf, g, create_graph, wrap)
        current = leaf.grad
        if create_graph:
            leaf.grad = _add(current, g if isinstance(g, TensorBase) else wrap(g))
        else:
            if type(g) is not ndarray:  # NumPy gives 0-d results as scalars
                g = backend.array_of(g)
            if current is None:
                if id(g) in claimed or not backend.writable_fresh(g):
                    g = g.copy()
                claimed.add(id(g))
                leaf.grad = wrap(g)
            elif (current._node is None and current.data.shape == g.shape
                  and backend.writable_fresh(current.data)):
                current.data += g
            else:
                leaf.grad = wrap(current.data + g)
        if extra and "post_accumulate" in extra:
            for hook in list(extra["post_accumulate"]):
                hook(leaf)


def seed_for(root: Any, gradient: Any, where: str) -> Any:
    """The gradient a backward pass starts from: 1 for a one-element root, else ``gradient``."""
    if gradient is None:
        if root.data.size != 1:
            raise GraphError(
                f"{where}: the output has shape {root.shape}, so there is no single gradient "
                "to start from; pass gradient= an array of that shape (the vector of the "
                "vector-Jacobian product), or reduce first, e.g. y.sum().backward()"
            )
        return xp.ones_like(root.data)
    g = gradient.data if isinstance(gradient, TensorBase) else backend.array_of(gradient)
    if backend.device_of(g) != backend.device_of(root.data):
        raise backend.DeviceError(
            f"{where}: the gradient is on {backend.device_of(g)} but the output on "
            f"{backend.device_of(root.data)}; move it with .to(...)"
        )
    if g.shape != root.shape:
        raise ShapeError(
            f"{where}: gradient has shape {g.shape} but the output has shape {root.shape}; "
            "they must match"
        )
    return g.astype(root.data.dtype, copy=False)
