"""The ``roads`` layer: a noded, strongly connected street network with names.

Steps: junctions (quadtree, denser in towns, none in the river) and corridor
junctions → Delaunay → sparse streets → drop streets over water or outside the
county → largest component → corridors → classes and names by stroke → one-way
streets → merge runs of degree-two junctions into single edges.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from geodata._chains import merge_chains, strokes, walk_path
from geodata._corridors import CORRIDORS, Corridor, corridors_from_specs
from geodata._driveways import driveways
from geodata._names import NameBook
from geodata._roadgraph import (
    choose_oneways,
    delaunay_edges,
    is_strongly_connected,
    largest_component,
    quadtree_nodes,
    sparse_streets,
)
from geodata._spec import AOJIANG, METRIC_CRS, ScaleSpec
from geodata._warp import warp_from_seed

__all__ = ["CLASSES", "RoadNet", "Street", "build_roads"]

CLASSES = ("trunk", "primary", "secondary", "tertiary", "residential", "service")
SPEED_KMH = {"trunk": 60.0, "primary": 50.0, "secondary": 40.0, "tertiary": 30.0}
SPEED_KMH |= {"residential": 20.0, "service": 15.0}
LANE = "村道"
DRIVEWAY = "内部道路"
URBAN_RADIUS_M = {AOJIANG: 3200.0, "330326-100": 2200.0}
ONEWAY_RADIUS_M = {AOJIANG: 1800.0, "330326-100": 1000.0}
STREET_BENDS = ((6000.0, 1), (2500.0, 2))  # gentle warp of the junction lattice


@dataclass
class Street:
    """A named street to put house numbers on: its line in travel order."""

    name: str
    line: shapely.LineString


@dataclass
class RoadNet:
    """The ``roads`` layer in metres and the named streets for the gazetteer."""

    roads: gpd.GeoDataFrame
    streets: list[Street]


@dataclass
class _Graph:
    """Working state: junctions and undirected edges with attributes."""

    points: np.ndarray
    edges: np.ndarray
    rank: np.ndarray  # index into CLASSES
    name: np.ndarray
    stroke: np.ndarray

    def length(self) -> np.ndarray:
        return np.hypot(*(self.points[self.edges[:, 1]] - self.points[self.edges[:, 0]]).T)


def build_roads(
    spec: ScaleSpec,
    rng: np.random.Generator,
    county: shapely.Geometry,
    towns: gpd.GeoDataFrame,
    anchor_at,
    centres: dict[str, np.ndarray],
    river: shapely.LineString,
    water: shapely.Geometry,
    names: NameBook,
) -> RoadNet:
    """Build the street network of the county.

    Parameters
    ----------
    spec
        The scale (junction spacing).
    rng
        Source of randomness.
    county, towns, water
        Geometries in metres.
    anchor_at
        Anchor → position, for the corridors.
    centres
        Town code → centre in metres.
    river
        The river's centreline.
    names
        Street names.

    Returns
    -------
    RoadNet
    """
    corridors = corridors_from_specs(CORRIDORS, anchor_at, river)
    graph, sequences = _raw_graph(spec, rng, county, centres, corridors, water)
    _mark_corridors(graph, corridors, sequences)
    town_of = _town_of_points(graph.points, towns)
    urban = _urban(graph.points, centres)
    _classify_and_name(graph, corridors, town_of, urban, rng, names)
    _add_driveways(graph, urban, county, water, rng)
    oneway = _oneways(graph, centres, rng)
    if not is_strongly_connected(graph.edges, oneway):
        raise RuntimeError("the road graph is not strongly connected")
    roads = _merged_frame(graph, oneway, water)
    streets = _streets(graph)
    return RoadNet(roads=roads, streets=streets)


def _spacing_function(spec: ScaleSpec, centres: dict[str, np.ndarray]):
    """Wanted junction spacing: tight in town cores, loose in the country."""

    def spacing_at(xy: np.ndarray) -> np.ndarray:
        out = np.full(len(xy), spec.rural_street_m)
        for code, centre in centres.items():
            big = code == AOJIANG
            base = spec.street_m * (1.0 if big else 1.3)
            reach = 2600.0 if big else 1100.0
            d = np.hypot(*(xy - centre).T)
            out = np.minimum(out, base * (1 + (d / reach) ** 2))
            if big:
                out = np.where(d < 7000, np.minimum(out, spec.rural_street_m * 0.5), out)
        return out

    return spacing_at


def _raw_graph(spec, rng, county, centres, corridors: list[Corridor], water):
    """Junctions and the kept triangulation edges; corridor junction index sequences."""
    spacing_at = _spacing_function(spec, centres)
    background = quadtree_nodes(shapely.buffer(county, 600.0), spacing_at, spec.rural_street_m, rng)
    background = warp_from_seed(rng, STREET_BENDS, lipschitz=0.3).apply(background)
    shapely.prepare(county)
    background = background[shapely.contains_xy(county, background[:, 0], background[:, 1])]
    clear = shapely.union_all(
        [shapely.buffer(c.line, 0.55 * c.spec.spacing_m) for c in corridors]
        + [shapely.buffer(water, 15.0)]
    )
    shapely.prepare(clear)
    background = background[~shapely.contains_xy(clear, background[:, 0], background[:, 1])]
    index: dict[tuple[float, float], int] = {}
    sequences = []
    for c in corridors:
        seq = [index.setdefault((float(x), float(y)), len(index)) for x, y in c.points]
        sequences.append(np.array(seq))
    corridor_points = np.array(list(index.keys()))
    points = np.concatenate([corridor_points, background])
    edges = delaunay_edges(points)
    length = np.hypot(*(points[edges[:, 1]] - points[edges[:, 0]]).T)
    loop_share = np.where(length < 1.6 * spec.street_m, 0.35, 0.25)
    keep = sparse_streets(points, edges, loop_share, rng)
    consecutive = _consecutive_pairs(sequences)
    is_corridor = np.array([(a, b) in consecutive for a, b in edges])
    lines = shapely.linestrings(points[edges])
    land = shapely.buffer(county, 5.0)
    shapely.prepare(land)
    shapely.prepare(water)
    inside = shapely.covers(land, lines)
    dry = ~shapely.intersects(water, lines)
    keep = is_corridor | (keep & inside & dry & (length < 2.5 * spec.rural_street_m))
    edges = edges[keep]
    edges = edges[largest_component(len(points), edges)]
    n = len(edges)
    graph = _Graph(
        points, edges, np.full(n, CLASSES.index("residential")), np.full(n, ""), np.full(n, -1)
    )
    graph.name = graph.name.astype(object)
    return graph, sequences


def _consecutive_pairs(sequences: list[np.ndarray]) -> set[tuple[int, int]]:
    """Sorted junction pairs that follow each other along some corridor."""
    pairs = set()
    for seq in sequences:
        for a, b in itertools.pairwise(seq):
            pairs.add((int(min(a, b)), int(max(a, b))))
    return pairs


def _mark_corridors(graph: _Graph, corridors: list[Corridor], sequences) -> None:
    """Give corridor edges their class and name; route around missing links."""
    lookup = {(int(a), int(b)): i for i, (a, b) in enumerate(graph.edges)}
    n = len(graph.points)
    weights = coo_matrix(
        (graph.length(), (graph.edges[:, 0], graph.edges[:, 1])), shape=(n, n)
    ).tocsr()
    for k, (c, seq) in enumerate(zip(corridors, sequences, strict=True)):
        rank = CLASSES.index(c.spec.road_class)
        for a, b in itertools.pairwise(seq):
            key = (int(min(a, b)), int(max(a, b)))
            path = [lookup[key]] if key in lookup else _detour(weights, lookup, a, b)
            for e in path:
                if rank <= graph.rank[e]:
                    graph.rank[e], graph.name[e], graph.stroke[e] = rank, c.spec.name, k


def _detour(weights, lookup, a: int, b: int) -> list[int]:
    """Edges of the shortest path from ``a`` to ``b`` (empty if unreachable)."""
    _, pred = dijkstra(weights, directed=False, indices=int(a), return_predecessors=True)
    path, node = [], int(b)
    while pred[node] >= 0:
        prev = int(pred[node])
        path.append(lookup[(min(prev, node), max(prev, node))])
        node = prev
    return path


def _town_of_points(points: np.ndarray, towns: gpd.GeoDataFrame) -> np.ndarray:
    """Index of the town holding each point (nearest town outside the county)."""
    geoms = towns.geometry.values
    tree = shapely.STRtree(geoms)
    pts = shapely.points(points)
    out = np.full(len(points), -1)
    hit_pt, hit_town = tree.query(pts, predicate="within")
    out[hit_pt] = hit_town
    outside = out < 0
    out[outside] = tree.nearest(pts[outside])
    return out


def _urban(points: np.ndarray, centres: dict[str, np.ndarray]) -> np.ndarray:
    """Whether each point lies in a town core."""
    out = np.zeros(len(points), dtype=bool)
    for code, centre in centres.items():
        out |= np.hypot(*(points - centre).T) < URBAN_RADIUS_M.get(code, 1200.0)
    return out


def _classify_and_name(graph: _Graph, corridors, town_of, urban, rng, names: NameBook) -> None:
    """Class and name every non-corridor edge, one decision per stroke."""
    free = graph.stroke < 0
    labels = strokes(graph.points, graph.edges, free)
    offset = len(corridors)
    graph.stroke[free] = labels[free] + offset
    degree = np.bincount(graph.edges.ravel(), minlength=len(graph.points))
    length = graph.length()
    namer = _StreetNamer(names.street_pool)
    for label in range(labels.max() + 1):
        members = np.flatnonzero(labels == label)
        nodes = np.unique(graph.edges[members])
        is_urban = urban[nodes].mean() > 0.5
        total = length[members].sum()
        dead_end = len(members) == 1 and degree[graph.edges[members[0]]].min() == 1
        if dead_end and total < 250:
            graph.rank[members] = CLASSES.index("service")
            graph.name[members] = DRIVEWAY if is_urban else LANE
            continue
        tertiary = total >= (1500 if is_urban else 6000)
        graph.rank[members] = CLASSES.index("tertiary" if tertiary else "residential")
        if not (is_urban or tertiary) and rng.random() < 0.5:
            graph.name[members] = LANE
            continue
        towns = {int(t) for t in town_of[nodes]}
        graph.name[members] = namer.name(towns)


def _add_driveways(graph: _Graph, urban: np.ndarray, county, water, rng) -> None:
    """Append dead-end service roads (see :mod:`geodata._driveways`)."""
    origins, ends = driveways(graph.points, graph.edges, urban, county, water, rng)
    first = len(graph.points)
    graph.points = np.concatenate([graph.points, ends])
    new = np.column_stack([origins, first + np.arange(len(ends))])
    graph.edges = np.concatenate([graph.edges, new])
    graph.rank = np.concatenate([graph.rank, np.full(len(new), CLASSES.index("service"))])
    names = np.where(urban[origins], DRIVEWAY, LANE).astype(object)
    graph.name = np.concatenate([graph.name, names])
    graph.stroke = np.concatenate([graph.stroke, graph.stroke.max() + 1 + np.arange(len(new))])


class _StreetNamer:
    """Hands out street names that are unique within every town they touch."""

    def __init__(self, pool: list[str]) -> None:
        self.pool = pool
        self.used: dict[int, set[str]] = {}
        self.start: dict[int, int] = {}  # per town: first pool index that may be free

    def name(self, towns: set[int]) -> str:
        """The first pool name not yet used in any of ``towns``; mark it used."""
        for t in towns:
            self.used.setdefault(t, set())
        first = min(self.start.get(t, 0) for t in towns)
        for i in range(first, len(self.pool)):
            name = self.pool[i]
            if all(name not in self.used[t] for t in towns):
                for t in towns:
                    self.used[t].add(name)
                    self._advance(t)
                return name
        raise RuntimeError("ran out of street names")

    def _advance(self, town: int) -> None:
        k = self.start.get(town, 0)
        while k < len(self.pool) and self.pool[k] in self.used[town]:
            k += 1
        self.start[town] = k


def _oneways(graph: _Graph, centres: dict[str, np.ndarray], rng) -> np.ndarray:
    """Pick one-way streets in the cores of Aojiang and Kunyang."""
    residential = np.isin(graph.rank, [CLASSES.index("tertiary"), CLASSES.index("residential")])
    mid = graph.points[graph.edges].mean(axis=1)
    candidates = np.zeros(len(graph.edges), dtype=bool)
    for code, radius in ONEWAY_RADIUS_M.items():
        if code in centres:
            near = np.hypot(*(mid - centres[code]).T) < radius
            candidates |= near & residential & (rng.random(len(mid)) < 0.07)
    return choose_oneways(graph.edges, np.flatnonzero(candidates), rng)


def _merged_frame(graph: _Graph, oneway: np.ndarray, water) -> gpd.GeoDataFrame:
    """Merge degree-two runs and build the ``roads`` frame (metres)."""
    key = (graph.rank * 1_000_000 + graph.stroke).astype(np.int64)
    chains = merge_chains(graph.edges, key, oneway)
    rows, geoms = [], []
    for i, chain in enumerate(chains):
        xy = graph.points[chain.nodes]
        first = chain.parts[0][0]
        road_class = CLASSES[graph.rank[first]]
        one = int(any(oneway[e] != 0 for e, _ in chain.parts))
        rows.append((f"R{i + 1:06d}", graph.name[first], road_class, SPEED_KMH[road_class], one))
        geoms.append(shapely.LineString(xy))
    columns = ["code", "name", "road_class", "speed_kmh", "oneway"]
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=geoms, crs=METRIC_CRS)
    shapely.prepare(water)
    frame.insert(5, "bridge", shapely.intersects(water, frame.geometry.values).astype(int))
    return frame


def _streets(graph: _Graph) -> list[Street]:
    """Addressable streets: named strokes of class secondary to residential."""
    addressable = np.isin(
        graph.rank, [CLASSES.index(c) for c in ("secondary", "tertiary", "residential")]
    )
    addressable &= ~np.isin(graph.name, [LANE, DRIVEWAY, ""])
    addressable &= ~np.char.endswith(graph.name.astype(str), "大桥")
    out = []
    for label in np.unique(graph.stroke[addressable]):
        members = [int(e) for e in np.flatnonzero((graph.stroke == label) & addressable)]
        nodes = walk_path(members, graph.edges)
        out.append(Street(str(graph.name[members[0]]), shapely.LineString(graph.points[nodes])))
    return out
