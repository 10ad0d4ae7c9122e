"""Group street edges: into *strokes* (named streets) and into *chains* (final edges).

A stroke is a run of edges that continue each other in a nearly straight line; it
gets one street name and one run of house numbers. A chain is a run of edges joined
at junctions of degree two with equal attributes; it becomes one road edge, so
every written edge runs between two intersections or dead ends.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Chain", "merge_chains", "strokes", "walk_path"]


class _UnionFind:
    """Disjoint sets over ``0 .. n-1``."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)

    def labels(self) -> np.ndarray:
        roots = np.array([self.find(i) for i in range(len(self.parent))])
        return np.unique(roots, return_inverse=True)[1]


def _incidence(edges: np.ndarray, mask: np.ndarray) -> dict[int, list[int]]:
    """Node → indices of the masked edges that touch it."""
    touching: dict[int, list[int]] = {}
    for i in np.flatnonzero(mask):
        for node in edges[i]:
            touching.setdefault(int(node), []).append(int(i))
    return touching


def strokes(
    points: np.ndarray, edges: np.ndarray, eligible: np.ndarray, max_turn_deg: float = 35.0
) -> np.ndarray:
    """Join eligible edges that continue each other at a junction.

    At each junction the pair of edges with the smallest turn is joined first, then
    the next pair among the remaining edges, while the turn is below ``max_turn_deg``.

    Parameters
    ----------
    points
        Junction coordinates.
    edges
        Edges ``(m, 2)``.
    eligible
        Mask of the edges to group; the others get label -1.

    Returns
    -------
    numpy.ndarray
        Stroke label per edge (0 ..), -1 for ineligible edges.
    """
    joined = _UnionFind(len(edges))
    limit = np.cos(np.radians(180.0 - max_turn_deg))
    for node, incident in _incidence(edges, eligible).items():
        if len(incident) < 2:
            continue
        away = np.array([points[_other(edges[e], node)] - points[node] for e in incident])
        away /= np.hypot(away[:, 0], away[:, 1])[:, None]
        cos = away @ away.T
        pairs = sorted(
            (cos[i, j], i, j)
            for i in range(len(incident))
            for j in range(i + 1, len(incident))
            if cos[i, j] < limit
        )
        used: set[int] = set()
        for _, i, j in pairs:
            if i in used or j in used:
                continue
            used |= {i, j}
            joined.union(incident[i], incident[j])
    roots = joined.labels()
    labels = np.full(len(edges), -1)
    labels[eligible] = np.unique(roots[eligible], return_inverse=True)[1]
    return labels


def _other(edge: np.ndarray, node: int) -> int:
    """The end of ``edge`` that is not ``node``."""
    return int(edge[1]) if int(edge[0]) == node else int(edge[0])


def walk_path(members: list[int], edges: np.ndarray) -> list[int]:
    """Junctions along the longest simple run of ``members``, in order.

    The members of a stroke form a path or a ring; a corridor that detoured may
    branch, in which case only the run found from the first free end is returned.
    """
    touching: dict[int, list[int]] = {}
    for e in members:
        for end in edges[e]:
            touching.setdefault(int(end), []).append(e)
    ends = [node for node, incident in sorted(touching.items()) if len(incident) == 1]
    node = ends[0] if ends else int(edges[members[0], 0])
    used: set[int] = set()
    nodes = [node]
    while True:
        nxt = [e for e in touching[node] if e not in used]
        if not nxt:
            return nodes
        used.add(nxt[0])
        node = _other(edges[nxt[0]], node)
        nodes.append(node)


class Chain:
    """One final road edge: a run of graph edges in travel order.

    Attributes
    ----------
    parts
        ``(edge, reversed)`` pairs.
    nodes
        The junctions passed, first to last.
    """

    def __init__(self, parts: list[tuple[int, bool]], nodes: list[int]) -> None:
        self.parts = parts
        self.nodes = nodes


def merge_chains(edges: np.ndarray, key: np.ndarray, direction: np.ndarray) -> list[Chain]:
    """Merge edges through junctions of degree two whose two edges are alike.

    Parameters
    ----------
    edges
        Edges ``(m, 2)``.
    key
        Per edge, an integer summarising the attributes that must match.
    direction
        0 two-way, 1 one-way along ``edges[i]``, -1 against.

    Returns
    -------
    list of Chain
        Chains never start and end at the same junction and never join the same
        two junctions as another chain: such runs are cut at an inner junction.
    """
    touching = _incidence(edges, np.ones(len(edges), dtype=bool))
    through: dict[int, tuple[int, int]] = {}
    for node, pair in touching.items():
        if len(pair) == 2 and pair[0] != pair[1] and key[pair[0]] == key[pair[1]]:
            a, b = pair
            if _compatible(edges, direction, a, b, node):
                through[node] = (a, b)
    chains = _walk_chains(edges, direction, through, touching)
    return _cut_duplicates(chains)


def _compatible(edges, direction, a: int, b: int, node: int) -> bool:
    """Both two-way, or both one-way with traffic flowing through ``node``."""
    if direction[a] == 0 and direction[b] == 0:
        return True
    if direction[a] == 0 or direction[b] == 0:
        return False
    a_enters = (int(edges[a, 1]) == node) == (direction[a] == 1)
    b_enters = (int(edges[b, 1]) == node) == (direction[b] == 1)
    return a_enters != b_enters


def _walk_chains(edges, direction, through, touching) -> list[Chain]:
    """Start a chain at every edge end that is not a pass-through junction."""
    done = np.zeros(len(edges), dtype=bool)
    chains: list[Chain] = []
    for node in sorted(touching):
        if node in through:
            continue
        for start in touching[node]:
            if done[start]:
                continue
            parts, nodes = [], [node]
            edge, at = start, node
            while True:
                done[edge] = True
                parts.append((edge, int(edges[edge, 0]) != at))
                at = _other(edges[edge], at)
                nodes.append(at)
                if at not in through:
                    break
                a, b = through[at]
                edge = b if a == edge else a
            chains.append(_oriented(Chain(parts, nodes), direction))
    if not done.all():
        raise RuntimeError("a ring of degree-two junctions is not attached to the network")
    return chains


def _oriented(chain: Chain, direction) -> Chain:
    """Flip a one-way chain so that its geometry runs in the direction of travel."""
    edge, flipped = chain.parts[0]
    travel = direction[edge] * (-1 if flipped else 1)
    if travel >= 0:
        return chain
    parts = [(e, not r) for e, r in reversed(chain.parts)]
    return Chain(parts, chain.nodes[::-1])


def _cut_duplicates(chains: list[Chain]) -> list[Chain]:
    """Cut loops and parallel chains in two at their middle junction."""
    seen: set[tuple[int, int]] = set()
    out: list[Chain] = []
    for chain in chains:
        ends = (min(chain.nodes[0], chain.nodes[-1]), max(chain.nodes[0], chain.nodes[-1]))
        if (ends[0] == ends[1] or ends in seen) and len(chain.parts) > 1:
            k = len(chain.parts) // 2
            out += [Chain(chain.parts[:k], chain.nodes[: k + 1])]
            out += [Chain(chain.parts[k:], chain.nodes[k:])]
            seen |= {_ends(out[-2]), _ends(out[-1])}
        else:
            out.append(chain)
            seen.add(ends)
    return out


def _ends(chain: Chain) -> tuple[int, int]:
    a, b = chain.nodes[0], chain.nodes[-1]
    return (min(a, b), max(a, b))
