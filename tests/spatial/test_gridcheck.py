"""Tests of geogrid.spatial.gridcheck: injected defects are found, clean tilings are clean.

Areas are checked against an independent computation: the geodesic area on the WGS 84
ellipsoid (``pyproj.Geod``, the same number PostGIS gives for ``geography``) of the
injected rectangle, or of a brute-force pairwise ``intersection``/``difference``.
"""

from __future__ import annotations

import itertools
import json

import geopandas as gpd
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from geogrid.errors import UnknownCRSError, UnknownGridError
from geogrid.spatial.gridcheck import (
    GridCandidate,
    ProblemKind,
    check_grid_edit,
    check_grids,
    repair_grid_geometry,
)
from geogrid.spatial.testing import voronoi_grids

LON0, LAT0, UNIT = 120.5, 27.6, 0.01  # 1 unit = 0.01 degree, about 1 km
GEOD = pyproj.Geod(ellps="WGS84")
REL = 1e-4  # the local projection's area error is far below this at 10 km


def cell(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """Return a box in hand-made units, placed near Pingyang."""
    return box(LON0 + x0 * UNIT, LAT0 + y0 * UNIT, LON0 + x1 * UNIT, LAT0 + y1 * UNIT)


def geodesic_m2(geom: shapely.Geometry) -> float:
    """Return the area on the WGS 84 ellipsoid, in m² (independent of geogrid)."""
    return sum(abs(GEOD.geometry_area_perimeter(p)[0]) for p in shapely.get_parts(geom))


def frame(rows: list[tuple[str, str, str | None, object]]) -> gpd.GeoDataFrame:
    codes, levels, parents, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"code": codes, "level": levels, "parent_code": parents}, geometry=list(geoms), crs=4326
    )


def rect_tiling(xs: list[float], ys: list[float], *, parent_as_union: bool = False):
    """Return a county cut into towns by the grid lines ``xs`` × ``ys`` (units).

    Towns are ``C-001``, ``C-002``, ... row by row; they share every vertex.
    """
    towns = [
        (f"C-{k + 1:03d}", "town", "C", cell(x0, y0, x1, y1))
        for k, ((y0, y1), (x0, x1)) in enumerate(
            (yy, xx) for yy in itertools.pairwise(ys) for xx in itertools.pairwise(xs)
        )
    ]
    county = (
        shapely.union_all([t[3] for t in towns])
        if parent_as_union
        else cell(xs[0], ys[0], xs[-1], ys[-1])
    )
    return frame([("C", "county", None, county), *towns])


def with_geometry(grids: gpd.GeoDataFrame, code: str, geom: object) -> gpd.GeoDataFrame:
    out = grids.copy()
    out.loc[out["code"] == code, "geometry"] = gpd.GeoSeries([geom], crs=4326).values
    return out


def kinds(report) -> list[str]:
    return [p.kind.value for p in report.problems]


cuts = st.lists(st.integers(1, 29), min_size=1, max_size=3, unique=True).map(
    lambda c: [0.0, *sorted(x / 10 for x in c), 3.0]
)
"""Cut positions (units) of a 3-unit side: towns at least 100 m wide."""


# ---------------------------------------------------------------- clean tilings


@settings(max_examples=15, deadline=None)
@given(
    n_micro=st.integers(4, 60),
    villages=st.integers(1, 4),
    towns=st.integers(1, 3),
    wiggle=st.sampled_from([0.0, 1.0]),
    seed=st.integers(0, 10_000),
)
def test_clean_voronoi_tilings_give_an_empty_report(n_micro, villages, towns, wiggle, seed):
    n_village = max(1, min(n_micro, n_micro // villages))
    n_town = max(1, min(n_village, towns))
    grids = voronoi_grids(n_micro, n_village, n_town, n_industry=2, wiggle=wiggle, seed=seed)
    report = check_grids(grids)
    assert report.is_clean, [p.message for p in report.problems]
    parents = grids.loc[grids["level"] != "industry", "parent_code"].dropna().nunique()
    assert report.parents_checked == parents
    assert report.grids_checked == len(grids)


@settings(max_examples=20, deadline=None)
@given(xs=cuts, ys=cuts, union=st.booleans())
def test_clean_rectangle_tilings_give_an_empty_report(xs, ys, union):
    report = check_grids(rect_tiling(xs, ys, parent_as_union=union))
    assert report.is_clean, [p.message for p in report.problems]
    assert report.counts() == {k.value: 0 for k in ProblemKind}


def test_a_narrow_inlet_of_the_parent_between_two_children_is_not_a_gap() -> None:
    # the county has a 0.2 m wide slot cut in from the south, between the two towns
    slot = 0.2 / 98_000 / UNIT  # in units: 0.2 m of longitude
    west = cell(0, 0, 1, 1).difference(cell(1 - slot, 0, 1, 0.5))
    east = cell(1, 0, 2, 1).difference(cell(1, 0, 1 + slot, 0.5))
    county = shapely.union_all([west, east])
    report = check_grids(
        frame(
            [("C", "county", None, county), ("C-1", "town", "C", west), ("C-2", "town", "C", east)]
        )
    )
    assert report.is_clean, [p.message for p in report.problems]


def test_industry_grids_overlay_without_problems() -> None:
    grids = rect_tiling([0, 1, 2], [0, 1])
    park = frame([("C-I01", "industry", "C", cell(0.5, 0.2, 1.5, 0.8))])
    report = check_grids(pd_concat(grids, park))
    assert report.is_clean


def pd_concat(*frames: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)


# ------------------------------------------------------------- injected defects


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(xs=cuts, ys=cuts, data=st.data())
def test_an_injected_hole_is_a_gap_of_its_area(xs, ys, data):
    grids = rect_tiling(xs, ys)
    k = data.draw(st.integers(0, len(grids) - 2))
    code, town = grids["code"].iloc[k + 1], grids.geometry.iloc[k + 1]
    x0, y0, x1, y1 = town.bounds
    fx, fy = data.draw(st.floats(0.1, 0.55)), data.draw(st.floats(0.1, 0.55))
    side = data.draw(st.floats(0.15, 0.3))  # of the town's size: at least ~15 m
    hole = box(
        x0 + fx * (x1 - x0),
        y0 + fy * (y1 - y0),
        x0 + (fx + side) * (x1 - x0),
        y0 + (fy + side) * (y1 - y0),
    )
    report = check_grids(with_geometry(grids, code, town.difference(hole)))
    assert kinds(report) == ["gap"]
    (gap,) = report.problems
    assert gap.codes == ("C", code)
    assert gap.parent_code == "C"
    assert gap.area_m2 == pytest.approx(geodesic_m2(hole), rel=REL)
    assert gap.geometry.equals_exact(shapely.normalize(hole), 1e-9) or gap.geometry.equals(hole)
    assert hole.contains(gap.point)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(xs=cuts, ys=cuts, data=st.data())
def test_an_injected_overlap_names_both_towns_with_the_pairwise_area(xs, ys, data):
    grids = rect_tiling(xs, ys)
    towns = grids.iloc[1:]
    k = data.draw(st.integers(0, len(towns) - 1))
    code, town = towns["code"].iloc[k], towns.geometry.iloc[k]
    centre = shapely.point_on_surface(town)
    half_w, half_h = data.draw(st.floats(0.05, 1.5)), data.draw(st.floats(0.05, 1.0))
    grow = cell(
        max((centre.x - LON0) / UNIT - half_w, 0),
        max((centre.y - LAT0) / UNIT - half_h, 0),
        min((centre.x - LON0) / UNIT + half_w, 3),
        min((centre.y - LAT0) / UNIT + half_h, 2),
    )
    grown = town.union(grow)
    report = check_grids(with_geometry(grids, code, grown))

    expected = {}  # brute force: every other town against the grown one
    for other, geom in zip(towns["code"], towns.geometry, strict=True):
        if other != code:
            area = geodesic_m2(grown.intersection(geom))
            if area >= 1.0:
                expected[tuple(sorted((code, other)))] = area
    found = {
        p.codes: p.area_m2
        for p in report.problems
        if p.kind == ProblemKind.OVERLAP or (p.kind == ProblemKind.SLIVER and p.detail == "overlap")
    }
    assert found.keys() == expected.keys()
    for pair, area in expected.items():
        assert found[pair] == pytest.approx(area, rel=REL, abs=0.01)
    # nothing else is wrong: no gap, nothing outside the county
    assert set(kinds(report)) <= {"overlap", "sliver", "coverage_edge"}
    for p in report.problems:
        assert code in p.codes


@settings(max_examples=20, deadline=None)
@given(xs=cuts, ys=cuts, data=st.data())
def test_a_town_reaching_beyond_the_county_is_outside_by_the_difference(xs, ys, data):
    grids = rect_tiling(xs, ys)
    k = data.draw(st.integers(0, len(grids) - 2))
    code, town = grids["code"].iloc[k + 1], grids.geometry.iloc[k + 1]
    x0, y0, x1, _ = ((v - o) / UNIT for v, o in zip(town.bounds, (LON0, LAT0) * 2, strict=True))
    reach = data.draw(st.floats(0.05, 0.5))
    grown = town.union(cell(x0, y0 - reach, x1, y0 + 0.01))  # south, past the county?
    report = check_grids(with_geometry(grids, code, grown))
    beyond = geodesic_m2(grown.difference(grids.geometry.iloc[0]))
    outside = [p for p in report.problems if p.kind == ProblemKind.OUTSIDE]
    if beyond > 0:
        (problem,) = outside
        assert problem.codes == (code, "C")
        assert problem.area_m2 == pytest.approx(beyond, rel=REL)
    else:
        assert outside == []
    if y0 > 1e-6:  # an inner town overlaps its southern neighbour too
        assert "overlap" in kinds(report)
    else:  # the union may drop the town's old corner: its neighbour's corner then sits
        # on a straight edge, and the borders no longer match vertex for vertex
        assert set(kinds(report)) <= {"outside", "coverage_edge"}
    assert all(code in p.codes for p in report.problems)


def test_a_thin_gap_along_a_shared_border_is_a_sliver() -> None:
    grids = rect_tiling([0, 1, 2], [0, 1])
    strip_units = 0.3 / 98_000 / UNIT  # 0.3 m of longitude
    strip = cell(1 - strip_units, 0, 1, 1)
    report = check_grids(with_geometry(grids, "C-001", grids.geometry.iloc[1].difference(strip)))
    (sliver,) = report.problems
    assert sliver.kind == ProblemKind.SLIVER
    assert sliver.detail == "gap"
    assert sliver.codes == ("C", "C-001", "C-002")
    assert sliver.area_m2 == pytest.approx(geodesic_m2(strip), rel=1e-3)
    assert sliver.width_m == pytest.approx(0.3, rel=0.01)
    assert sliver.area_m2 > 100  # thin, not tiny: a sliver by its width


def test_a_tiny_island_in_a_neighbour_is_a_sliver_part_and_a_sliver_overlap() -> None:
    grids = rect_tiling([0, 1, 2], [0, 1])
    islet = cell(1.5, 0.5, 1.505, 0.505)  # about 5 m × 5.5 m, inside C-002
    report = check_grids(with_geometry(grids, "C-001", grids.geometry.iloc[1].union(islet)))
    by_detail = {p.detail: p for p in report.problems if p.kind == ProblemKind.SLIVER}
    assert set(by_detail) == {"overlap", "part"}
    assert by_detail["overlap"].codes == ("C-001", "C-002")
    assert by_detail["part"].codes == ("C-001",)
    for p in by_detail.values():
        assert p.area_m2 == pytest.approx(geodesic_m2(islet), rel=REL)


def test_a_bowtie_is_invalid_at_its_crossing_and_checked_as_repaired() -> None:
    grids = rect_tiling([0, 1, 2], [0, 1])
    a, b, c, d = (LON0, LAT0), (LON0 + UNIT, LAT0), (LON0 + UNIT, LAT0 + UNIT), (LON0, LAT0 + UNIT)
    bowtie = Polygon([a, c, b, d])  # crosses itself at the centre of C-001
    report = check_grids(with_geometry(grids, "C-001", bowtie))
    (invalid,) = [p for p in report.problems if p.kind == ProblemKind.INVALID]
    assert invalid.codes == ("C-001",)
    assert invalid.detail.startswith("Self-intersection")
    assert invalid.geometry.distance(shapely.Point(LON0 + UNIT / 2, LAT0 + UNIT / 2)) < 1e-9
    assert invalid.area_m2 == pytest.approx(geodesic_m2(shapely.make_valid(bowtie)), rel=REL)
    # repaired, C-001 keeps two triangles: the other two are gaps in the county
    gaps = [p for p in report.problems if p.kind == ProblemKind.GAP]
    assert len(gaps) == 2
    assert all(p.codes[:2] == ("C", "C-001") for p in gaps)
    missing = geodesic_m2(cell(0, 0, 1, 1)) - geodesic_m2(shapely.make_valid(bowtie))
    assert sum(p.area_m2 for p in gaps) == pytest.approx(missing, rel=REL)


@pytest.mark.parametrize(
    ("geom", "detail"),
    [
        (None, "missing"),
        (Polygon(), "empty"),
        (shapely.LineString([(120, 27), (121, 28)]), "a LineString, not a polygon"),
    ],
)
def test_a_grid_without_an_area_is_not_a_polygon(geom, detail) -> None:
    grids = rect_tiling([0, 1, 2], [0, 1])
    report = check_grids(with_geometry(grids, "C-002", geom))
    not_polygon = [p for p in report.problems if p.kind == ProblemKind.NOT_POLYGON]
    assert [(p.codes, p.detail) for p in not_polygon] == [(("C-002",), detail)]
    # and the county has a gap where C-002 should be
    (gap,) = [p for p in report.problems if p.kind == ProblemKind.GAP]
    assert gap.area_m2 == pytest.approx(geodesic_m2(cell(1, 0, 2, 1)), rel=REL)


def test_a_moved_shared_vertex_is_a_coverage_edge_problem() -> None:
    # two towns share a border with a middle vertex; C-1 has it 0.5 mm east of C-2's
    mid = (LON0 + UNIT, LAT0 + UNIT / 2)
    shifted = (mid[0] + 5e-9, mid[1])
    west = Polygon(
        [
            (LON0, LAT0),
            (LON0 + UNIT, LAT0),
            shifted,
            (LON0 + UNIT, LAT0 + UNIT),
            (LON0, LAT0 + UNIT),
        ]
    )
    east = Polygon(
        [
            (LON0 + UNIT, LAT0),
            (LON0 + 2 * UNIT, LAT0),
            (LON0 + 2 * UNIT, LAT0 + UNIT),
            (LON0 + UNIT, LAT0 + UNIT),
            mid,
        ]
    )
    overlap_m2 = geodesic_m2(west.intersection(east))
    assert 0 < overlap_m2 < 1.0  # below the tolerance: not an overlap, but not matching
    report = check_grids(
        frame(
            [
                ("C", "county", None, cell(0, 0, 2, 1)),
                ("C-1", "town", "C", west),
                ("C-2", "town", "C", east),
            ]
        )
    )
    assert kinds(report) == ["coverage_edge", "coverage_edge"]
    assert [p.codes for p in report.problems] == [("C-1", "C-2"), ("C-2", "C-1")]
    for p in report.problems:
        assert p.length_m > 0
        assert p.geometry.distance(shapely.Point(mid)) < 1e-6
    # with a tolerance below the overlap, it is a (sliver) overlap and explains the edges
    strict = check_grids(
        frame(
            [
                ("C", "county", None, cell(0, 0, 2, 1)),
                ("C-1", "town", "C", west),
                ("C-2", "town", "C", east),
            ]
        ),
        tolerance_m2=overlap_m2 / 2,
    )
    assert [(p.kind.value, p.detail, p.codes) for p in strict.problems] == [
        ("sliver", "overlap", ("C-1", "C-2"))
    ]
    assert strict.problems[0].area_m2 == pytest.approx(overlap_m2, rel=1e-3)


def test_a_t_junction_is_a_coverage_edge_problem_without_area() -> None:
    mid = (LON0 + UNIT, LAT0 + UNIT / 2)
    west = cell(0, 0, 1, 1)  # no vertex at mid
    east = Polygon(
        [
            (LON0 + UNIT, LAT0),
            (LON0 + 2 * UNIT, LAT0),
            (LON0 + 2 * UNIT, LAT0 + UNIT),
            (LON0 + UNIT, LAT0 + UNIT),
            mid,
        ]
    )
    report = check_grids(
        frame(
            [
                ("C", "county", None, cell(0, 0, 2, 1)),
                ("C-1", "town", "C", west),
                ("C-2", "town", "C", east),
            ]
        )
    )
    assert kinds(report) == ["coverage_edge", "coverage_edge"]
    assert [p.codes for p in report.problems] == [("C-1", "C-2"), ("C-2", "C-1")]
    assert all(p.area_m2 == 0 for p in report.problems)
    assert report.problems[0].length_m == pytest.approx(
        GEOD.line_length([LON0 + UNIT] * 2, [LAT0, LAT0 + UNIT]), rel=1e-3
    )


# ----------------------------------------------------------- codes and levels


def test_codes_levels_and_parents_are_checked() -> None:
    grids = frame(
        [
            ("C", "county", None, cell(0, 0, 2, 1)),
            ("C-001", "town", "C", cell(0, 0, 1, 1)),
            ("X-002", "town", "C", cell(1, 0, 2, 1)),  # code does not extend C
            ("C-001-001", "micro", "C-001", cell(0, 0, 1, 1)),  # skips the village level
            ("C-009-001", "village", "C-009", cell(0, 0, 0.5, 0.5)),  # no such parent
            ("C-003", "town", None, cell(5, 5, 6, 6)),  # no parent at all
            ("C-004", "hamlet", "C", cell(7, 7, 8, 8)),  # unknown level
            ("C-001", "industry", "C", cell(0.2, 0.2, 0.4, 0.4)),  # duplicate code
        ]
    )
    report = check_grids(grids)
    found = {(p.kind.value, p.codes) for p in report.problems}
    assert found == {
        ("code_mismatch", ("X-002", "C")),
        ("level_mismatch", ("C-001-001", "C-001")),
        ("unknown_parent", ("C-009-001", "C-009")),
        ("unknown_parent", ("C-003",)),
        ("level_mismatch", ("C-004", "C")),
        ("duplicate_code", ("C-001",)),
    }
    assert report.counts()["level_mismatch"] == 2


def test_one_parent_is_checked_alone_and_an_unknown_one_is_refused() -> None:
    grids = rect_tiling([0, 1, 2], [0, 1])
    villages = frame(
        [
            ("C-001-001", "village", "C-001", cell(0, 0, 0.5, 1)),
            ("C-001-002", "village", "C-001", cell(0.5, 0, 0.9, 1)),  # leaves a gap
            ("C-002-001", "village", "C-002", cell(1, 0, 1.8, 1)),  # leaves another
        ]
    )
    both = pd_concat(grids, villages)
    whole = check_grids(both)
    assert [(p.kind.value, p.parent_code) for p in whole.problems] == [
        ("gap", "C-001"),
        ("gap", "C-002"),
    ]
    one = check_grids(both, "C-001")
    assert [(p.kind.value, p.codes) for p in one.problems] == [("gap", ("C-001", "C-001-002"))]
    assert one.parent_code == "C-001"
    assert one.parents_checked == 1
    assert one.grids_checked == 3
    assert one.problems[0].area_m2 == pytest.approx(geodesic_m2(cell(0.9, 0, 1, 1)), rel=REL)
    leaf = check_grids(both, "C-002-001")
    assert leaf.is_clean
    assert leaf.parents_checked == 0
    with pytest.raises(UnknownGridError):
        check_grids(both, "C-404")


def test_refuses_a_frame_not_in_wgs84_and_bad_thresholds() -> None:
    grids = rect_tiling([0, 1, 2], [0, 1])
    with pytest.raises(UnknownCRSError):
        check_grids(grids.to_crs(32651))
    with pytest.raises(ValueError, match="tolerance_m2"):
        check_grids(grids, tolerance_m2=-1)
    with pytest.raises(ValueError, match="sliver_m2"):
        check_grids(grids, sliver_m2=float("nan"))


def test_the_report_serialises_to_json_and_a_geodataframe() -> None:
    grids = rect_tiling([0, 1, 2], [0, 1])
    hole = cell(0.2, 0.2, 0.4, 0.4)
    report = check_grids(with_geometry(grids, "C-001", grids.geometry.iloc[1].difference(hole)))
    as_dict = json.loads(json.dumps(report.to_dict()))
    assert as_dict["summary"]["problems"] == 1
    assert as_dict["summary"]["by_kind"]["gap"] == 1
    (problem,) = as_dict["problems"]
    assert problem["kind"] == "gap"
    assert problem["codes"] == ["C", "C-001"]
    assert shapely.geometry.shape(problem["location"]).equals(hole)
    assert hole.contains(shapely.Point(problem["point"]))
    frame_ = report.to_geodataframe()
    assert frame_.crs.to_epsg() == 4326
    assert list(frame_["kind"]) == ["gap"]
    assert frame_.geometry.iloc[0].equals(hole)
    assert json.loads(frame_.to_json())["features"][0]["properties"]["codes"] == ["C", "C-001"]
    empty = check_grids(grids).to_geodataframe()
    assert len(empty) == 0
    assert "kind" in empty.columns
    assert empty.crs.to_epsg() == 4326


# --------------------------------------------------------------- grid edits


@pytest.fixture(scope="module")
def towns() -> gpd.GeoDataFrame:
    """A county of 3 × 2 towns with the last one (C-006) missing."""
    grids = rect_tiling([0, 1, 2, 3], [0, 1, 2])
    return grids[grids["code"] != "C-006"].reset_index(drop=True)


def test_a_grid_filling_the_hole_exactly_is_accepted(towns) -> None:
    assert check_grid_edit(GridCandidate("C-006", "town", "C", cell(2, 1, 3, 2)), towns) == []


@settings(max_examples=30, deadline=None)
@given(x0=st.floats(0, 2.9), y0=st.floats(0, 1.9), w=st.floats(0.01, 3), h=st.floats(0.01, 2))
def test_edit_overlaps_agree_with_brute_force(towns, x0, y0, w, h) -> None:
    shape = cell(x0, y0, min(x0 + w, 3.5), min(y0 + h, 2.5))
    problems = check_grid_edit(GridCandidate("C-006", "town", "C", shape), towns)
    expected = {}
    for code, geom in zip(towns["code"].iloc[1:], towns.geometry.iloc[1:], strict=True):
        area = geodesic_m2(shape.intersection(geom))
        if area > 1.0:
            expected[("C-006", code)] = area
    overlaps = {p.codes: p.area_m2 for p in problems if p.kind == ProblemKind.OVERLAP}
    assert overlaps.keys() == expected.keys()
    for pair, area in expected.items():
        assert overlaps[pair] == pytest.approx(area, rel=REL, abs=0.01)
    areas = [p.area_m2 for p in problems if p.kind == ProblemKind.OVERLAP]
    assert areas == sorted(areas, reverse=True)
    beyond = geodesic_m2(shape.difference(towns.geometry.iloc[0]))
    outside = [p for p in problems if p.kind == ProblemKind.OUTSIDE]
    if beyond > 1.0:
        assert [p.codes for p in outside] == [("C-006", "C")]
        assert outside[0].area_m2 == pytest.approx(beyond, rel=REL, abs=0.01)
    else:
        assert outside == []


def test_edit_codes_levels_and_parents(towns) -> None:
    def problems(**change) -> set[tuple[str, tuple[str, ...]]]:
        fields = {
            "code": "C-006",
            "level": "town",
            "parent_code": "C",
            "geometry": cell(2, 1, 3, 2),
        }
        found = check_grid_edit(GridCandidate(**(fields | change)), towns)
        return {(p.kind.value, p.codes) for p in found}

    assert problems(code="C-001", geometry=cell(2, 1, 3, 2)) == {("duplicate_code", ("C-001",))}
    assert problems(code="X-006") == {("code_mismatch", ("X-006", "C"))}
    assert problems(code="C-006-01") == {("code_mismatch", ("C-006-01", "C"))}
    assert problems(level="village") == {("level_mismatch", ("C-006", "C"))}
    assert problems(parent_code="C-404", code="C-404-1") == {
        ("unknown_parent", ("C-404-1", "C-404"))
    }
    assert problems(parent_code=None) == {("unknown_parent", ("C-006",))}
    assert problems(level="industry", code="C-I01", geometry=cell(0.5, 0.5, 1.5, 1.5)) == set()


def test_a_replaced_grid_is_no_duplicate_nor_its_own_neighbour(towns) -> None:
    bigger = cell(0, 0, 1.2, 1)  # C-001 grown into C-002
    plain = check_grid_edit(GridCandidate("C-001", "town", "C", bigger), towns)
    assert {p.kind.value for p in plain} == {"duplicate_code", "overlap"}
    replaced = check_grid_edit(GridCandidate("C-001", "town", "C", bigger, replaces=True), towns)
    assert [(p.kind.value, p.codes) for p in replaced] == [("overlap", ("C-001", "C-002"))]
    assert replaced[0].area_m2 == pytest.approx(geodesic_m2(cell(1, 0, 1.2, 1)), rel=REL)
    renamed = GridCandidate("C-010", "town", "C", cell(0, 0, 1, 1), replaces="C-001")
    assert check_grid_edit(renamed, towns) == []


def test_a_shrunk_parent_must_still_hold_its_children(towns) -> None:
    villages = frame(
        [
            ("C-001-001", "village", "C-001", cell(0, 0, 0.5, 1)),
            ("C-001-002", "village", "C-001", cell(0.5, 0, 1, 1)),
        ]
    )
    grids = pd_concat(towns, villages)
    shrunk = GridCandidate("C-001", "town", "C", cell(0, 0, 0.8, 1), replaces=True)
    problems = check_grid_edit(shrunk, grids)
    assert [(p.kind.value, p.codes) for p in problems] == [("outside", ("C-001-002", "C-001"))]
    assert problems[0].area_m2 == pytest.approx(geodesic_m2(cell(0.8, 0, 1, 1)), rel=REL)


def test_an_invalid_edit_says_what_make_valid_does(towns) -> None:
    a, b, c, d = (cell(2, 1, 3, 2).exterior.coords[i] for i in range(4))
    bowtie = Polygon([a, c, b, d])
    problems = check_grid_edit(GridCandidate("C-006", "town", "C", bowtie), towns)
    (invalid,) = problems
    assert invalid.kind == ProblemKind.INVALID
    assert "Self-intersection" in invalid.detail
    assert "make_valid repairs it into 2 polygons" in invalid.message
    repaired = repair_grid_geometry(bowtie)
    assert repaired.is_valid
    assert len(repaired.geoms) == 2
    assert invalid.area_m2 == pytest.approx(geodesic_m2(repaired), rel=REL)
    line = shapely.LineString([a, c])
    (not_polygon,) = check_grid_edit(GridCandidate("C-006", "town", "C", line), towns)
    assert not_polygon.kind == ProblemKind.NOT_POLYGON


def test_edit_neighbours_come_from_the_spatial_index_only() -> None:
    # 2,000 villages in one town: the edit touches two of them
    n = 2000
    side = 1.0 / n
    rows = [("C", "county", None, cell(0, 0, 1, 1)), ("C-1", "town", "C", cell(0, 0, 1, 1))]
    rows += [
        (f"C-1-{k:04d}", "village", "C-1", cell(k * side, 0, (k + 1) * side, 1)) for k in range(n)
    ]
    grids = frame(rows)
    wide = cell(10 * side, 0.2, 11.5 * side, 0.4)
    problems = check_grid_edit(GridCandidate("C-1-9999", "village", "C-1", wide), grids)
    assert [p.codes for p in problems] == [("C-1-9999", "C-1-0010"), ("C-1-9999", "C-1-0011")]
    assert problems[0].area_m2 == pytest.approx(
        geodesic_m2(wide.intersection(grids.geometry.iloc[12])), rel=REL
    )
