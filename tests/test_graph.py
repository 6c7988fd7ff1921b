"""The shared graph walks on plain dict graphs: ``toposort`` puts every node
after its parents, ``reaches`` finds whether a node of some kind is upstream."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chainrule.graph import reaches, toposort


@st.composite
def dags(draw: st.DrawFn) -> dict[int, list[int]]:
    """Node k may take any nodes below k as parents: always acyclic."""
    n = draw(st.integers(1, 30))
    return {k: draw(st.lists(st.integers(0, k - 1), max_size=3)) if k else [] for k in range(n)}


def _upstream(graph: dict[int, list[int]], root: int) -> set[int]:
    out, todo = {root}, [root]
    while todo:
        for p in graph[todo.pop()]:
            if p not in out:
                out.add(p)
                todo.append(p)
    return out


@given(dags())
def test_toposort_lists_each_reachable_node_once_after_its_parents(g: dict) -> None:
    root = max(g)
    order = toposort(root, g.__getitem__)
    assert sorted(order) == sorted(_upstream(g, root))
    place = {n: i for i, n in enumerate(order)}
    for n in order:
        assert all(place[p] < place[n] for p in g[n])


@given(dags(), st.integers(0, 29))
def test_reaches_agrees_with_the_upstream_set(g: dict, target: int) -> None:
    root = max(g)
    assert reaches(root, g.__getitem__, lambda n: n == target) == (
        target in _upstream(g, root)
    )
