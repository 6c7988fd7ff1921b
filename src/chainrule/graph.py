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
    # Kahn's algorithm from the root: first count, for every node, the edges
    # that reach it from its consumers; then release a node once all of its
    # consumers are out. Two plain loops, no recursion and no per-node objects.
    pending = {root: 0}
    stack = [root]
    while stack:
        for parent in parents(stack.pop()):
            if parent in pending:
                pending[parent] += 1
            else:
                pending[parent] = 1
                stack.append(parent)
    order = []
    ready = [root]
    while ready:
        node = ready.pop()
        order.append(node)
        for parent in parents(node):
            left = pending[parent] - 1
            pending[parent] = left
            if not left:
                ready.append(parent)
    order.reverse()
    return order
