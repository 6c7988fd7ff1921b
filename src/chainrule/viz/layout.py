"""Where each box and circle of a picture goes, left to right.

Graphviz's ``dot`` lays the graph out when it is installed (``dot -Tplain``
gives the centres and the edges' splines). Without it a small layered layout
of our own does: ranks by longest path (inputs pulled next to their first
use), long edges broken by waypoints, orders within a rank by the
barycentre of the neighbours, and heights that follow the neighbours while
keeping the order and the spacing (isotonic regression, pool adjacent
violators).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field

Point = tuple[float, float]
DPI = 72.0  # Graphviz measures in inches; pictures in pixels at 72 per inch
MARGIN = 16.0
RANK_GAP = 44.0
NODE_GAP = 18.0


@dataclass
class Shape:
    ident: str
    width: float
    height: float


@dataclass
class Placement:
    centres: dict[str, Point]
    edges: list[list[Point]]  # per edge: a cubic Bézier path, p0 c1 c2 p1 c1 c2 p2 ...
    width: float
    height: float
    engine: str  # "graphviz" or "layered"
    clusters: list[tuple[float, float, float, float]] = field(default_factory=list)
    bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # of the shapes


def layout(shapes: list[Shape], edges: list[tuple[str, str]], clusters: list[list[str]],
           engine: str = "auto") -> Placement:
    """Place ``shapes`` (ids and sizes in pixels) and route ``edges`` between them.

    ``clusters`` are groups of ids drawn in one frame; ``engine`` is "auto"
    (Graphviz if its ``dot`` program is there), "graphviz" or "layered".
    """
    if engine not in ("auto", "graphviz", "layered"):
        raise ValueError(f"layout: engine must be 'auto', 'graphviz' or 'layered', got {engine!r}")
    placed = None
    if engine != "layered" and shutil.which("dot"):
        placed = _graphviz(shapes, edges, clusters)
    if placed is None and engine == "graphviz":
        raise RuntimeError("layout: Graphviz's dot program is not on PATH (apt install graphviz)")
    if placed is None:
        placed = layered(shapes, edges)
    sizes = {s.ident: s for s in shapes}
    for group in clusters:
        boxes = [(placed.centres[i], sizes[i]) for i in group if i in placed.centres]
        if boxes:
            placed.clusters.append((
                min(c[0] - s.width / 2 for c, s in boxes) - 8,
                min(c[1] - s.height / 2 for c, s in boxes) - 22,
                max(c[0] + s.width / 2 for c, s in boxes) + 8,
                max(c[1] + s.height / 2 for c, s in boxes) + 8,
            ))
    return _fit(placed)


def _fit(p: Placement) -> Placement:
    """Shift everything so that the picture starts at the margin, and size it."""
    xs = [x for c in p.clusters for x in (c[0], c[2])]
    ys = [y for c in p.clusters for y in (c[1], c[3])]
    for path in p.edges:
        xs += [q[0] for q in path]
        ys += [q[1] for q in path]
    left, top = min(xs, default=0.0), min(ys, default=0.0)
    dx, dy = MARGIN - min(left, p.bounds[0]), MARGIN - min(top, p.bounds[1])
    p.centres = {k: (x + dx, y + dy) for k, (x, y) in p.centres.items()}
    p.edges = [[(x + dx, y + dy) for x, y in path] for path in p.edges]
    p.clusters = [(a + dx, b + dy, c + dx, d + dy) for a, b, c, d in p.clusters]
    right = max([x for c in p.clusters for x in (c[2],)] + [p.bounds[2] + dx]
                + [q[0] for path in p.edges for q in path])
    bottom = max([c[3] for c in p.clusters] + [p.bounds[3] + dy]
                 + [q[1] for path in p.edges for q in path])
    p.width, p.height = right + MARGIN, bottom + MARGIN
    return p


# ---------------------------------------------------------------- Graphviz
def _graphviz(shapes: list[Shape], edges: list[tuple[str, str]],
              clusters: list[list[str]]) -> Placement | None:
    lines = ["digraph g {", "rankdir=LR; nodesep=0.25; ranksep=0.45;",
             'node [shape=box, fixedsize=true, label=""]; edge [arrowhead=none];']
    for k, group in enumerate(clusters):
        lines.append(f"subgraph cluster_{k} {{ margin=14; " + " ".join(group) + " }")
    for s in shapes:
        lines.append(f"{s.ident} [width={s.width / DPI:.3f}, height={s.height / DPI:.3f}];")
    lines += [f"{a} -> {b};" for a, b in edges]
    lines.append("}")
    try:
        result = subprocess.run(["dot", "-Tplain"], input="\n".join(lines).encode(),
                                capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return _read_plain(result.stdout.decode(), shapes, edges)


def _read_plain(text: str, shapes: list[Shape], edges: list[tuple[str, str]]) -> Placement | None:
    height = 0.0
    centres: dict[str, Point] = {}
    paths: dict[tuple[str, str], list[list[Point]]] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "graph":
            height = float(parts[3])
        elif parts[0] == "node":
            centres[parts[1]] = (float(parts[2]) * DPI, (height - float(parts[3])) * DPI)
        elif parts[0] == "edge":
            n = int(parts[3])
            coords = [float(v) for v in parts[4:4 + 2 * n]]
            pts = [(coords[2 * i] * DPI, (height - coords[2 * i + 1]) * DPI) for i in range(n)]
            paths.setdefault((parts[1], parts[2]), []).append(pts)
    if len(centres) != len(shapes):
        return None
    routed = []
    for a, b in edges:
        waiting = paths.get((a, b))
        if not waiting:
            return None
        routed.append(waiting.pop(0))
    return _placement(centres, routed, shapes, "graphviz")


def _placement(centres: dict[str, Point], routed: list[list[Point]], shapes: list[Shape],
               engine: str) -> Placement:
    p = Placement(centres, routed, 0.0, 0.0, engine)
    sizes = {s.ident: s for s in shapes}
    p.bounds = (
        min((x - sizes[k].width / 2 for k, (x, _) in centres.items()), default=0.0),
        min((y - sizes[k].height / 2 for k, (_, y) in centres.items()), default=0.0),
        max((x + sizes[k].width / 2 for k, (x, _) in centres.items()), default=0.0),
        max((y + sizes[k].height / 2 for k, (_, y) in centres.items()), default=0.0),
    )
    return p


# ---------------------------------------------------------------- our own
def layered(shapes: list[Shape], edges: list[tuple[str, str]]) -> Placement:
    """A layered left-to-right layout (the fallback when Graphviz is not installed)."""
    ids = [s.ident for s in shapes]
    size = {s.ident: s for s in shapes}
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    rank = _ranks(ids, preds, succs)
    # waypoints: an edge over several ranks passes through one point per rank it crosses
    chains: list[list[str]] = []
    prev_of: dict[str, list[str]] = {i: [] for i in ids}
    width = dict.fromkeys(ids, 0.0)
    height = {i: size[i].height for i in ids}
    for k, (a, b) in enumerate(edges):
        chain = [a]
        for r in range(rank[a] + 1, rank[b]):
            w = f"~{k}_{r}"
            rank[w], height[w], width[w] = r, 2.0, 0.0
            prev_of[w] = []
            chain.append(w)
        chain.append(b)
        for u, v in zip(chain, chain[1:], strict=False):
            prev_of[v].append(u)
        chains.append(chain)
    for i in ids:
        width[i] = size[i].width
    layers: dict[int, list[str]] = {}
    for node in sorted(rank, key=lambda n: (rank[n], _order_key(n, ids))):
        layers.setdefault(rank[node], []).append(node)
    next_of: dict[str, list[str]] = {n: [] for n in rank}
    for v, us in prev_of.items():
        for u in us:
            next_of[u].append(v)
    top = max(layers) if layers else 0
    order = {n: k for r in layers for k, n in enumerate(layers[r])}
    for sweep in range(8):  # barycentre ordering, alternating directions
        sweep_ranks = range(1, top + 1) if sweep % 2 == 0 else range(top - 1, -1, -1)
        for r in sweep_ranks:
            by = prev_of if sweep % 2 == 0 else next_of
            layers[r].sort(key=lambda n: _bary(n, by, order))
            for k, n in enumerate(layers[r]):
                order[n] = k
    xs = {}
    x = 0.0
    for r in range(top + 1):
        widest = max((width[n] for n in layers.get(r, [])), default=0.0)
        for n in layers.get(r, []):
            xs[n] = x + widest / 2
        x += widest + RANK_GAP
    ys: dict[str, float] = {}
    for r in range(top + 1):
        y = 0.0
        for n in layers.get(r, []):
            ys[n] = y + height[n] / 2
            y += height[n] + NODE_GAP
    for sweep in range(12):  # heights follow the neighbours, in order, never overlapping
        ranks = list(range(top + 1)) if sweep % 2 == 0 else list(range(top, -1, -1))
        for r in ranks:
            row = layers.get(r, [])
            wanted = []
            for n in row:
                near = prev_of[n] + next_of[n]
                wanted.append(sum(ys[m] for m in near) / len(near) if near else ys[n])
            for n, y in zip(row, _spaced(wanted, [height[n] for n in row]), strict=True):
                ys[n] = y
    centres = {i: (xs[i], ys[i]) for i in ids}
    routed = []
    seen: dict[tuple[str, str], int] = {}
    for (a, b), chain in zip(edges, chains, strict=True):
        twin = seen.get((a, b), 0)
        seen[(a, b)] = twin + 1
        shift = 6.0 * twin
        pts = [(xs[a] + width[a] / 2, ys[a] + shift)]
        pts += [(xs[w], ys[w] + shift) for w in chain[1:-1]]
        pts.append((xs[b] - width[b] / 2, ys[b] + shift))
        routed.append(_smooth(pts))
    return _placement(centres, routed, shapes, "layered")


def _order_key(n: str, ids: list[str]) -> float:
    return float(ids.index(n)) if not n.startswith("~") else float(n[1:].split("_")[0])


def _ranks(ids: list[str], preds: dict[str, list[str]], succs: dict[str, list[str]]) -> dict:
    rank: dict[str, int] = {}
    for i in ids:  # ids come in topological order: inputs first
        rank[i] = max((rank[p] + 1 for p in preds[i]), default=0)
    for i in reversed(ids):  # an input sits just before its first use
        if not preds[i] and succs[i]:
            rank[i] = min(rank[s] for s in succs[i]) - 1
    return rank


def _bary(n: str, by: dict[str, list[str]], order: dict[str, int]) -> float:
    near = by.get(n, [])
    return sum(order[m] for m in near) / len(near) if near else float(order[n])


def _spaced(wanted: list[float], heights: list[float]) -> list[float]:
    """The heights closest to ``wanted`` (least squares) that keep the order and leave
    ``NODE_GAP`` between neighbours: pool adjacent violators on shifted targets."""
    offsets = [0.0]
    for a, b in zip(heights, heights[1:], strict=False):
        offsets.append(offsets[-1] + (a + b) / 2 + NODE_GAP)
    blocks: list[list[float]] = []  # [mean, count]
    for w, off in zip(wanted, offsets, strict=True):
        blocks.append([w - off, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    out = []
    for mean, count in blocks:
        out += [mean] * int(count)
    return [z + off for z, off in zip(out, offsets, strict=True)]


def _smooth(pts: list[Point]) -> list[Point]:
    """A cubic Bézier path through ``pts`` that leaves and arrives horizontally."""
    path = [pts[0]]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        dx = (x1 - x0) / 2
        path += [(x0 + dx, y0), (x1 - dx, y1), (x1, y1)]
    return path
