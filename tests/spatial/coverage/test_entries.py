"""Entries against a brute force: dense sampling along every edge, no exact geometry.

The reference classifies points every few centimetres along each edge as on the boundary
(within the tolerance), inside or outside, groups the runs *on* the boundary that meet
at shared edge ends into places, and calls a place an entry when roads leave it on both
sides. It shares no code with :mod:`geogrid.spatial.coverage.entries`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest
import shapely
from shapely import LineString, Polygon, box

from geogrid.spatial.coverage.entries import Entries, find_entries
from geogrid.spatial.roads.synthetic import grid_roads
from geogrid.spatial.testing import voronoi_grids

TOL = 0.5
STEP = 0.02


@dataclass
class Place:
    samples: np.ndarray  # (k, 2) points on the boundary
    inside: list[bool]
    toward: list[bool]
    away: list[bool]
    open_end: bool

    @property
    def can_enter(self) -> bool:
        out_in = any(not s and t for s, t in zip(self.inside, self.toward, strict=True))
        in_away = any(s and a for s, a in zip(self.inside, self.away, strict=True))
        return out_in and in_away

    @property
    def can_exit(self) -> bool:
        in_t = any(s and t for s, t in zip(self.inside, self.toward, strict=True))
        out_away = any(not s and a for s, a in zip(self.inside, self.away, strict=True))
        return in_t and out_away


def brute_entries(polygon, lines, oneway, tol=TOL, step=STEP) -> list[Place]:
    """Places where the edges cross into ``polygon``, by dense sampling (planar)."""
    boundary = polygon.boundary
    ends: dict[tuple[float, float], list[int]] = {}
    for i, line in enumerate(lines):
        for xy in (line.coords[0], line.coords[-1]):
            ends.setdefault(tuple(xy), []).append(i)
    runs = []  # (edge, samples, prev_state, next_state, start_key, end_key)
    for i, line in enumerate(lines):
        if shapely.distance(boundary, line) > tol:
            continue  # never on the boundary: no run to record
        at = np.append(np.arange(0.0, line.length, step), line.length)
        pts = shapely.line_interpolate_point(line, at)
        on = shapely.distance(boundary, pts) <= tol
        inside = shapely.contains(polygon, pts)
        state = np.where(on, 2, inside.astype(int))
        cut = np.flatnonzero(np.diff(state)) + 1
        bounds = [0, *cut.tolist(), len(state)]
        pieces = list(itertools.pairwise(bounds))
        for k, (a, b) in enumerate(pieces):
            if state[a] != 2:
                continue
            prev = state[pieces[k - 1][0]] if k > 0 else None
            nxt = state[pieces[k + 1][0]] if k + 1 < len(pieces) else None
            xy = shapely.get_coordinates(pts[a:b])
            start_key = tuple(line.coords[0]) if a == 0 else None
            end_key = tuple(line.coords[-1]) if b == len(state) else None
            runs.append((i, xy, prev, nxt, start_key, end_key))
    # runs meeting at a shared edge end are one place
    parent = list(range(len(runs)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    by_key: dict[tuple[float, float], int] = {}
    for r, run in enumerate(runs):
        for key in (run[4], run[5]):
            if key is not None:
                if key in by_key:
                    parent[find(r)] = find(by_key[key])
                else:
                    by_key[key] = r
    groups: dict[int, list[int]] = {}
    for r in range(len(runs)):
        groups.setdefault(find(r), []).append(r)
    places = []
    for members in groups.values():
        inside, toward, away, samples = [], [], [], []
        open_end = False
        for r in members:
            edge, xy, prev, nxt, start_key, end_key = runs[r]
            samples.append(xy)
            if prev is not None:  # the part before: driven towards the place = forward
                inside.append(bool(prev))
                toward.append(True)
                away.append(not oneway[edge])
            if nxt is not None:
                inside.append(bool(nxt))
                toward.append(not oneway[edge])
                away.append(True)
            for key in (start_key, end_key):
                if key is not None and len(ends[key]) == 1:
                    open_end = True
                    inside.append(False)
                    toward.append(True)
                    away.append(True)
        if any(inside) and not all(inside):
            places.append(Place(np.concatenate(samples), inside, toward, away, open_end))
    return places


def entries_of(polygon, lines, oneway) -> Entries:
    """Run find_entries with node ids from exact shared coordinates."""
    ids: dict[tuple[float, float], int] = {}
    source = [ids.setdefault(tuple(line.coords[0]), len(ids)) for line in lines]
    target = [ids.setdefault(tuple(line.coords[-1]), len(ids)) for line in lines]
    one = np.asarray(oneway, bool)
    return find_entries([polygon], lines, source, target, np.ones(len(lines), bool), ~one)


def assert_same(polygon, lines, oneway, expected_count=None, tol_point=1.5):
    mine = entries_of(polygon, lines, oneway)
    ref = brute_entries(polygon, lines, oneway)
    if expected_count is not None:
        assert len(ref) == expected_count, "the reference itself disagrees with the case"
    assert len(mine) == len(ref)
    points = shapely.points(mine.x, mine.y)
    unmatched = list(range(len(ref)))
    for k, point in enumerate(points):
        dists = [shapely.distance(point, shapely.multipoints(ref[j].samples)) for j in unmatched]
        j = unmatched.pop(int(np.argmin(dists)))
        assert min(dists) <= tol_point
        assert shapely.distance(point, polygon.boundary) <= TOL + 1e-9
        assert mine.can_enter[k] == ref[j].can_enter
        assert mine.can_exit[k] == ref[j].can_exit
        assert mine.open_end[k] == ref[j].open_end
    return mine


SQUARE = box(0, 0, 100, 100)


def test_road_crossing_once_gives_one_entry_at_the_crossing():
    e = assert_same(SQUARE, [LineString([(-30, 40), (30, 50)])], [False], 1)
    assert e.x[0] == pytest.approx(0.0, abs=1e-9)
    assert e.y[0] == pytest.approx(45.0)
    assert e.direction.tolist() == ["both"]
    assert e.fraction[0] == pytest.approx(0.5)


def test_road_through_the_grid_gives_two_entries():
    e = assert_same(SQUARE, [LineString([(-20, 50), (50, 60), (120, 50)])], [False], 2)
    assert sorted(e.x.round(6).tolist()) == [0.0, 100.0]


def test_road_crossing_twice_and_back_gives_each_crossing():
    line = LineString([(50, -20), (50, 20), (60, 20), (60, -20), (70, -20), (70, 20)])
    assert_same(SQUARE, [line], [False], 3)


def test_road_along_the_boundary_and_back_out_is_no_entry():
    line = LineString([(-10, -10), (0, 20), (0, 60), (-10, 80)])
    assert_same(SQUARE, [line], [False], 0)


def test_road_along_the_boundary_then_inside_enters_where_it_leaves_the_boundary():
    line = LineString([(-10, -10), (0, 20), (0, 60), (30, 90)])
    e = assert_same(SQUARE, [line], [False], 1)
    assert (e.x[0], e.y[0]) == pytest.approx((0.0, 60.0))


def test_road_touching_at_a_vertex_is_no_entry():
    assert_same(SQUARE, [LineString([(-10, 40), (0, 50), (-10, 60)])], [False], 0)
    assert_same(SQUARE, [LineString([(10, 40), (0, 50), (10, 60)])], [False], 0)


def test_road_crossing_at_a_polygon_corner_is_one_entry():
    e = assert_same(SQUARE, [LineString([(-10, -10), (10, 10)])], [False], 1)
    assert (e.x[0], e.y[0]) == pytest.approx((0.0, 0.0), abs=1e-9)


def test_edges_meeting_on_the_boundary_make_one_entry():
    lines = [LineString([(-30, 50), (0, 50)]), LineString([(0, 50), (40, 50)])]
    e = assert_same(SQUARE, lines, [False, False], 1)
    assert e.edge.tolist() == [1]  # the edge that leads in
    assert e.fraction[0] == 0.0
    assert (e.arms_in[0], e.arms_out[0]) == (1, 1)


def test_junction_on_the_boundary_is_one_entry():
    lines = [
        LineString([(-30, 50), (0, 50)]),
        LineString([(-20, 80), (0, 50)]),
        LineString([(0, 50), (40, 50)]),
        LineString([(0, 50), (30, 20)]),
    ]
    e = assert_same(SQUARE, lines, [False] * 4, 1)
    assert (e.arms_in[0], e.arms_out[0]) == (2, 2)


def test_one_way_exit_is_reported_but_is_not_a_way_in():
    e = assert_same(SQUARE, [LineString([(50, 50), (50, 150)])], [True], 1)
    assert e.direction.tolist() == ["out"]
    assert e.way_in.tolist() == [False]
    e = assert_same(SQUARE, [LineString([(50, 150), (50, 50)])], [True], 1)
    assert e.direction.tolist() == ["in"]


def test_one_way_roads_pointing_at_each_other_have_no_way_through():
    lines = [LineString([(-30, 50), (0, 50)]), LineString([(40, 50), (0, 50)])]
    e = assert_same(SQUARE, lines, [True, True], 1)
    assert e.direction.tolist() == ["none"]


def test_dead_end_on_the_boundary_counts_as_a_way_from_outside():
    e = assert_same(SQUARE, [LineString([(0, 50), (40, 50)])], [False], 1)
    assert e.open_end.tolist() == [True]
    assert_same(SQUARE, [LineString([(0, 50), (-40, 50)])], [False], 0)


def test_road_zigzagging_within_the_tolerance_along_the_boundary_is_one_place():
    zig = [(-20, 10), *[(0.3 * (-1) ** k, 10 + 5 * k) for k in range(1, 12)], (30, 80)]
    assert_same(SQUARE, [LineString(zig)], [False], 1)


def test_grid_with_a_hole_has_entries_from_the_hole():
    ring = Polygon(box(0, 0, 100, 100).exterior, [box(40, 40, 60, 60).exterior.coords[::-1]])
    e = assert_same(ring, [LineString([(50, 50), (50, 120)])], [False], 2)
    assert sorted(e.y.round(6).tolist()) == [60.0, 100.0]


def test_no_road_near_the_grid_gives_nothing():
    e = entries_of(SQUARE, [LineString([(200, 200), (300, 300)])], [False])
    assert len(e) == 0
    empty = find_entries([], [], [], [], [], [])
    assert len(empty) == 0


def test_several_grids_share_a_border_crossing():
    west, east = box(0, 0, 50, 100), box(50, 0, 100, 100)
    lines = [LineString([(25, 50), (75, 50)])]
    e = find_entries([west, east], lines, [0], [1], [True], [True])
    assert e.grid.tolist() == [0, 1]
    assert e.x.tolist() == [50.0, 50.0]


def lattice_case(seed: int):
    """A street lattice and a wiggly village, both in metres."""
    roads = grid_roads(10, 10, spacing_m=120.0, centre=(0.0, 0.0), seed=seed)
    lines = shapely.transform(roads.geometry.to_numpy(), lambda c: c * 111_000.0)
    grids = voronoi_grids(12, 4, 1, bounds=(-0.0045, -0.0045, 0.0045, 0.0045), seed=seed)
    village = grids[grids.level == "village"].geometry.iloc[0]
    polygon = shapely.transform(village, lambda c: c * 111_000.0)
    return polygon, list(lines), roads["oneway"].to_numpy(bool)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_lattice_against_brute_force(seed):
    polygon, lines, oneway = lattice_case(seed)
    entries = assert_same(polygon, lines, oneway, tol_point=1.5)
    assert len(entries) > 3
