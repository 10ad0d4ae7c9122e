"""A real OpenStreetMap extract, loaded as users load it, routes like the raw ways say.

The extract is the Helsinki centre that pyrosm ships as test data (no download). geogrid
loads it through the same code as ``geogrid load helsinki.osm.pbf --kind roads`` and
builds its road network per profile from the stored rows. Independently, this test reads
the raw ways with osmium, applies the README's tag rules (``car``, ``foot``) itself and
builds a networkx graph with one edge per pair of consecutive way nodes (geodesic
lengths), the OSM node ids as nodes (edge ends within 0.5 m joined, as geogrid's
topology documents). Shortest costs between 600 random places (OSM nodes, the start and
end nodes of one-way ways, and points in the middle of way segments) must agree to 1e-6
relative: directed for ``car``, undirected for ``foot``, in seconds and in metres.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import osmium
import pyproj
import pyrosm
import pytest
import shapely
from sqlalchemy import text
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.road_classes import DEFAULT_SPEED_KMH
from geogrid.settings import Settings
from geogrid.spatial.roads.network import RoadNetwork
from geogrid.spatial.roads.routable import WALKING_SPEED_KMH, Profile
from geogrid.workspace import Workspace
from tests.conftest import TEMPLATE, database_copy

if TYPE_CHECKING:
    from tests.conftest import TestServer

pytestmark = [pytest.mark.db, pytest.mark.slow]

GEOD = pyproj.Geod(ellps="WGS84")
RTOL = 1e-6
N_PAIRS = 600
N_ORIGINS = 150

# -- the tag rules, written out again from the README (not imported from the loader) -------

CAR_CLASSES = {
    "motorway": "trunk",
    "trunk": "trunk",
    "primary": "primary",
    "secondary": "secondary",
    "tertiary": "tertiary",
    "unclassified": "residential",
    "residential": "residential",
    "living_street": "residential",
    "road": "residential",
    "service": "service",
    "track": "service",
}


WALKWAYS = {"footway", "path", "pedestrian", "steps"}
CLOSED = {"no", "private"}


def most_specific_allows(tags: dict[str, str], keys: tuple[str, ...]) -> bool:
    for key in keys:
        if key in tags:
            return tags[key].strip().lower() not in CLOSED
    return True


def car_way(tags: dict[str, str]) -> tuple[float, int] | None:
    """Return (speed km/h, direction) of a way cars may use, else None.

    direction: 0 both ways, 1 along the node order, -1 against it.
    """
    highway = tags.get("highway", "")
    base = highway.removesuffix("_link")
    if base not in CAR_CLASSES or tags.get("area") == "yes":
        return None
    if not most_specific_allows(tags, ("motorcar", "motor_vehicle", "vehicle", "access")):
        return None
    speed = DEFAULT_SPEED_KMH[CAR_CLASSES[base]]
    maxspeed = tags.get("maxspeed", "")
    if maxspeed.isdigit():
        speed = float(maxspeed)
    oneway = tags.get("oneway", "").lower()
    if oneway in ("-1", "reverse"):
        return speed, -1
    if oneway in ("yes", "true", "1"):
        return speed, 1
    implied = base == "motorway" or tags.get("junction") in ("roundabout", "circular")
    return speed, 1 if implied and oneway != "no" else 0


def foot_way(tags: dict[str, str]) -> tuple[float, int] | None:
    """Return (walking speed km/h, 0) of a way walkers may use (both ways), else None."""
    highway = tags.get("highway", "")
    base = highway.removesuffix("_link")
    if tags.get("area") == "yes":
        return None
    roads = base in CAR_CLASSES
    shared = highway in ("cycleway", "bridleway") and tags.get("foot") in (
        "yes",
        "designated",
        "permissive",
    )
    if not (roads or highway in WALKWAYS or shared):
        return None
    if not most_specific_allows(tags, ("foot", "access")):
        return None
    return WALKING_SPEED_KMH, 0


RULES = {"car": car_way, "foot": foot_way}


# -- the independent graph ------------------------------------------------------------------


@dataclass
class RawWays:
    """The highway ways of the extract: node ids, coordinates and tags."""

    refs: dict[int, list[int]] = field(default_factory=dict)
    tags: dict[int, dict[str, str]] = field(default_factory=dict)
    xy: dict[int, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str) -> RawWays:
        out = cls()

        class Handler(osmium.SimpleHandler):  # type: ignore[misc]
            def way(self, w: osmium.osm.Way) -> None:
                if "highway" not in w.tags:
                    return
                nodes = [n for n in w.nodes if n.location.valid()]
                out.refs[w.id] = [n.ref for n in nodes]
                out.tags[w.id] = {t.k: t.v for t in w.tags}
                for n in nodes:
                    out.xy[n.ref] = (n.location.lon, n.location.lat)

        Handler().apply_file(path, locations=True)
        return out


@dataclass(frozen=True)
class MidPoint:
    """A point part-way along the segment between two consecutive nodes of a way."""

    way: int
    index: int  # the segment from refs[index] to refs[index + 1]
    lon: float
    lat: float


def segment_length(xy: dict[int, tuple[float, float]], a: int, b: int) -> float:
    (x0, y0), (x1, y1) = xy[a], xy[b]
    return float(GEOD.inv(x0, y0, x1, y1)[2])


def joined_ends(raw: RawWays, tolerance_m: float = 0.5) -> dict[int, int]:
    """Return the node each edge end stands for, as geogrid's documented topology joins them.

    geogrid splits the kept ways (of either profile) at every node two of them share, and
    joins edge ends at most ``tolerance_m`` apart (README: data digitised without shared
    nodes). Ends closer than that become one node here too, chains included.
    """
    kept = [w for w, tags in raw.tags.items() if any(rule(tags) for rule in RULES.values())]
    kept = [w for w in kept if len(raw.refs[w]) >= 2]
    uses: dict[int, int] = defaultdict(int)
    for w in kept:
        for r in set(raw.refs[w]):
            uses[r] += 1
    ends = sorted({r for w in kept for r in (raw.refs[w][0], raw.refs[w][-1])})
    ends += sorted({r for r, n in uses.items() if n > 1} - set(ends))
    graph = nx.Graph()
    graph.add_nodes_from(ends)
    xy = np.array([raw.xy[r] for r in ends])
    tree = shapely.STRtree(shapely.points(xy))
    for i, j in tree.query(shapely.points(xy), predicate="dwithin", distance=2e-5).T:
        if i < j and segment_length(raw.xy, ends[i], ends[j]) <= tolerance_m:
            graph.add_edge(ends[i], ends[j])
    return {n: min(group) for group in nx.connected_components(graph) for n in group}


def independent_graph(
    raw: RawWays, rules: dict[int, tuple[float, int]], mids: list[MidPoint], weight: str
) -> nx.DiGraph:
    """Return the graph of the ways the rules keep, mid points spliced into their segments.

    Mid points are nodes ``("mid", i)``; costs are seconds (``time``) or metres. Node ids
    are OSM's, edge ends within 0.5 m joined (:func:`joined_ends`).
    """
    same = joined_ends(raw)
    graph = nx.DiGraph(same=same)
    by_segment: dict[tuple[int, int], list[tuple[float, object]]] = defaultdict(list)
    for i, mid in enumerate(mids):
        a = raw.refs[mid.way][mid.index]
        x0, y0 = raw.xy[a]
        by_segment[(mid.way, mid.index)].append(
            (float(GEOD.inv(x0, y0, mid.lon, mid.lat)[2]), ("mid", i))
        )

    def add(u: object, v: object, cost: float) -> None:
        u, v = same.get(u, u), same.get(v, v)  # type: ignore[call-overload]
        if u != v and (not graph.has_edge(u, v) or graph[u][v]["w"] > cost):
            graph.add_edge(u, v, w=cost)

    for way, (speed, direction) in rules.items():
        refs = raw.refs[way]
        factor = 3.6 / speed if weight == "time" else 1.0
        for index in range(len(refs) - 1):
            a, b = refs[index], refs[index + 1]
            full = segment_length(raw.xy, a, b)
            stops = [(0.0, a), *sorted(by_segment.get((way, index), [])), (full, b)]
            for (d0, u), (d1, v) in itertools.pairwise(stops):
                cost = (d1 - d0) * factor
                if direction >= 0:
                    add(u, v, cost)
                if direction <= 0:
                    add(v, u, cost)
    return graph


def mid_points(raw: RawWays, ways: list[int], k: int, rng: np.random.Generator) -> list[MidPoint]:
    """Return ``k`` points inside way segments, each at least 1 m from every other way."""
    lines = {
        w: shapely.LineString([raw.xy[r] for r in raw.refs[w]])
        for w in raw.refs
        if len(raw.refs[w]) >= 2
    }
    keys = list(lines)
    tree = shapely.STRtree([lines[w] for w in keys])
    out: list[MidPoint] = []
    while len(out) < k:
        way = ways[rng.integers(len(ways))]
        refs = raw.refs[way]
        index = int(rng.integers(len(refs) - 1))
        (x0, y0), (x1, y1) = raw.xy[refs[index]], raw.xy[refs[index + 1]]
        azimuth, _, length = GEOD.inv(x0, y0, x1, y1)
        if length < 5:
            continue
        lon, lat, _ = GEOD.fwd(x0, y0, azimuth, float(rng.uniform(0.2, 0.8)) * length)
        near = tree.query(shapely.Point(lon, lat).buffer(1e-5))  # about 1 m
        if any(keys[j] != way for j in near):
            continue
        out.append(MidPoint(way, index, float(lon), float(lat)))
    return out


# -- geogrid, as a user runs it ---------------------------------------------------------------


@pytest.fixture(scope="module")
def extract() -> Path:
    return Path(pyrosm.get_data("helsinki_pbf"))


@pytest.fixture(scope="module")
def loaded(pg_server: TestServer, extract: Path) -> Iterator[Workspace]:
    """The extract loaded into a fresh database by ``geogrid load … --kind roads``."""
    from geogrid.db import engine as engine_module
    from geogrid.settings import get_settings

    def forget() -> None:
        get_settings.cache_clear()
        engine_module._engine_for.cache_clear()

    with database_copy(pg_server, TEMPLATE) as engine, pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEOGRID_DATABASE_URL", engine.url.render_as_string(False))
        forget()
        try:
            result = CliRunner().invoke(app, ["load", str(extract), "--kind", "roads"])
        finally:
            forget()
        assert result.exit_code == 0, result.output
        yield Workspace(engine, Settings(cache_check_interval_s=60))


@pytest.fixture(scope="module")
def raw(extract: Path) -> RawWays:
    return RawWays.read(str(extract))


@dataclass
class Pairs:
    """Origins and destinations: OSM node ids (int) or mid points (``("mid", i)``)."""

    origins: list[object]
    destinations: list[object]
    mids: list[MidPoint]


def draw_pairs(
    raw: RawWays, rules: dict[int, tuple[float, int]], seed: int, *, nodes: bool = True
) -> Pairs:
    """Draw origins and destinations: a third one-way ends, a third mid points, the rest nodes.

    ``N_ORIGINS`` origins each go to ``N_PAIRS / N_ORIGINS`` destinations (one networkx
    search per origin).

    One-way ways give their first node (in the driving direction) as an origin and their
    last node as a destination, the places where snapping onto the one-way edge itself
    would force a route along it. With ``nodes=False`` every place is a mid point.
    """
    rng = np.random.default_rng(seed)
    car = {w: r for w, r in profile_rules(raw, "car").items() if r[1] != 0}
    starts = sorted({raw.refs[w][0 if d > 0 else -1] for w, (_, d) in car.items()})
    ends = sorted({raw.refs[w][-1 if d > 0 else 0] for w, (_, d) in car.items()})
    all_nodes = sorted({r for w in rules for r in raw.refs[w]})
    usable = set(all_nodes)
    starts = [n for n in starts if n in usable]
    ends = [n for n in ends if n in usable]
    n_mid = 2 * N_PAIRS // 3 if nodes else N_PAIRS
    mids = mid_points(raw, sorted(rules), n_mid, rng)
    mid_ids: list[object] = [("mid", i) for i in range(n_mid)]
    order = rng.permutation(N_PAIRS)
    if not nodes:
        return Pairs(
            mid_ids[:N_ORIGINS] * (N_PAIRS // N_ORIGINS), [mid_ids[i] for i in order], mids
        )

    def pick(ones: list[int], count: int) -> list[object]:
        third = count // 3
        chosen: list[object] = [int(x) for x in rng.choice(ones, third)]
        chosen += [mid_ids[int(i)] for i in rng.choice(n_mid, third, replace=False)]
        chosen += [int(x) for x in rng.choice(all_nodes, count - 2 * third)]
        return chosen

    origins = pick(starts, N_ORIGINS) * (N_PAIRS // N_ORIGINS)
    destinations = pick(ends, N_PAIRS)
    return Pairs(origins, [destinations[i] for i in order], mids)


def profile_rules(raw: RawWays, profile: str) -> dict[int, tuple[float, int]]:
    rules = {}
    for way, tags in raw.tags.items():
        found = RULES[profile](tags)
        if found is not None and len(raw.refs[way]) >= 2:
            rules[way] = found
    return rules


def geogrid_costs(net: RoadNetwork, raw: RawWays, pairs: Pairs, weight: str) -> np.ndarray:
    """Return geogrid's cost for every pair, every place snapped from its coordinates."""

    def lonlat(place: object) -> tuple[float, float]:
        if isinstance(place, tuple):
            mid = pairs.mids[place[1]]  # type: ignore[index]
            return mid.lon, mid.lat
        return raw.xy[place]  # type: ignore[index]

    o = np.array([lonlat(p) for p in pairs.origins])
    d = np.array([lonlat(p) for p in pairs.destinations])
    snapped_o, snapped_d = net.snap(o[:, 0], o[:, 1]), net.snap(d[:, 0], d[:, 1])
    assert snapped_o.distance_m.max() < 0.01
    assert snapped_d.distance_m.max() < 0.01
    matrix = net.cost_matrix(snapped_o, snapped_d, weight=weight)  # type: ignore[arg-type]
    return np.diagonal(matrix).copy()


def independent_costs(graph: nx.DiGraph, pairs: Pairs) -> np.ndarray:
    by_origin: dict[object, dict[object, float]] = {}
    out = np.full(len(pairs.origins), np.inf)
    same = graph.graph["same"]
    for i, (o_raw, d_raw) in enumerate(zip(pairs.origins, pairs.destinations, strict=True)):
        o, d = same.get(o_raw, o_raw), same.get(d_raw, d_raw)
        if o not in by_origin:
            by_origin[o] = (
                nx.single_source_dijkstra_path_length(graph, o, weight="w") if o in graph else {}
            )
        out[i] = by_origin[o].get(d, np.inf)
    return out


def assert_same_costs(ours: np.ndarray, theirs: np.ndarray, pairs: Pairs) -> None:
    reachable = np.isfinite(theirs)
    assert reachable.sum() > len(theirs) // 2, "most pairs should be connected"
    wrong = np.flatnonzero(
        (np.isfinite(ours) != reachable)
        | (reachable & ~np.isclose(ours, theirs, rtol=RTOL, atol=0.0))
    )
    detail = [(pairs.origins[i], pairs.destinations[i], ours[i], theirs[i]) for i in wrong[:10]]
    assert len(wrong) == 0, f"{len(wrong)} of {len(theirs)} pairs differ, e.g. {detail}"


def check(loaded: Workspace, raw: RawWays, profile: Profile, weight: str, *, nodes: bool) -> None:
    rules = profile_rules(raw, profile)
    pairs = draw_pairs(raw, rules, seed=11, nodes=nodes)
    graph = independent_graph(raw, rules, pairs.mids, weight)
    ours = geogrid_costs(loaded.road_network(profile), raw, pairs, weight)
    assert_same_costs(ours, independent_costs(graph, pairs), pairs)


@pytest.mark.parametrize("weight", ["time", "length"])
@pytest.mark.parametrize("profile", ["car", "foot"])
def test_routes_between_mid_points(
    loaded: Workspace, raw: RawWays, profile: Profile, weight: str
) -> None:
    check(loaded, raw, profile, weight, nodes=False)


@pytest.mark.parametrize("weight", ["time", "length"])
def test_foot_routes_with_nodes(loaded: Workspace, raw: RawWays, weight: str) -> None:
    """Walkers ignore one-way: places on one-way ends are plain nodes to them (undirected)."""
    check(loaded, raw, "foot", weight, nodes=True)


@pytest.mark.parametrize("weight", ["time", "length"])
def test_car_routes_with_one_way_end_nodes(loaded: Workspace, raw: RawWays, weight: str) -> None:
    """A place on a one-way road's first node (origin) or last node (destination) routes
    as that node, not along the one-way edge it snapped to (was 28 of 600 wrong)."""
    check(loaded, raw, "car", weight, nodes=True)


def test_the_extract_has_the_cases_that_matter(loaded: Workspace, raw: RawWays) -> None:
    car, foot = profile_rules(raw, "car"), profile_rules(raw, "foot")
    assert sum(1 for _, d in car.values() if d != 0) >= 100  # one-way ways
    assert len(set(foot) - set(car)) >= 500  # footways, steps, shared paths
    assert len(set(car) - set(foot)) >= 1
    assert loaded.road_network("car").n_edges > 1000


PGR_EDGES = {
    "car": "SELECT id, source, target, cost, reverse_cost FROM roads",
    "foot": "SELECT id, source, target, CASE WHEN foot THEN length_m * 3.6 / 5 ELSE -1 END "
    "AS cost, CASE WHEN foot THEN length_m * 3.6 / 5 ELSE -1 END AS reverse_cost FROM roads",
}


@pytest.mark.parametrize("profile", ["car", "foot"])
def test_pgrouting_agrees_for_both_profiles(loaded: Workspace, profile: Profile) -> None:
    """pgRouting on the stored columns (the README's SQL for walkers) gives the same times."""
    net = loaded.road_network(profile)
    usable = (net.cost_s >= 0) | (net.reverse_cost_s >= 0)
    nodes = np.unique(np.concatenate([net.source[usable], net.target[usable]]))
    rng = np.random.default_rng(5)
    sources, targets = rng.choice(nodes, 25, replace=False), rng.choice(nodes, 25, replace=False)
    with loaded.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost("
                ":edges, :sources, :targets, directed := true)"
            ),
            {"edges": PGR_EDGES[profile], "sources": sources.tolist(), "targets": targets.tolist()},
        ).all()
    theirs = np.full((25, 25), np.inf)
    index_s = {int(s): i for i, s in enumerate(sources)}
    index_t = {int(t): j for j, t in enumerate(targets)}
    for s, t, cost in rows:
        theirs[index_s[int(s)], index_t[int(t)]] = cost
    ours = net.cost_matrix(sources, targets)
    same_node = sources[:, None] == targets[None, :]
    ours[same_node] = 0.0
    theirs[same_node] = 0.0
    assert np.isfinite(theirs).sum() > 300
    assert np.array_equal(np.isfinite(ours), np.isfinite(theirs))
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-9)
