"""The one graph traversal both engines share.

Backpropagation visits a node only after every node that consumes it, so the
reverse sweep walks a topological order backwards. The order is built with an
explicit stack, never recursion, so a chain of a million nodes is fine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

N = TypeVar("N")


def toposort(root: N, parents: Callable[[N], Iterable[N]]) -> list[N]:
    """Every node reachable from ``root``, each listed after all of its parents.

    ``parents(node)`` gives the nodes a node was computed from; a node reached
    along several paths appears once. Reverse the list to backpropagate.
    """
    order: list[N] = []
    seen = {root}
    stack = [(root, iter(parents(root)))]
    push, pop, mark, emit = stack.append, stack.pop, seen.add, order.append
    while stack:
        node, todo = stack[-1]
        for parent in todo:
            if parent not in seen:
                mark(parent)
                push((parent, iter(parents(parent))))
                break
        else:
            pop()
            emit(node)
    return order


def reaches(root: N, parents: Callable[[N], Iterable[N]], hit: Callable[[N], bool]) -> bool:
    """Whether some node reachable from ``root`` satisfies ``hit``.

    Order does not matter here, so this walk keeps no order and stops at
    the first hit.
    """
    seen = {root}
    todo = [root]
    while todo:
        node = todo.pop()
        if hit(node):
            return True
        for parent in parents(node):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return False
