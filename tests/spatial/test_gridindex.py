"""Tests of geogrid.spatial.gridindex: ownership rules, statuses, and brute-force agreement."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from geogrid.errors import (
    AxisOrderError,
    GeoGridError,
    IngestError,
    InvalidGeometryError,
    UnknownCRSError,
)
from geogrid.spatial.gridindex import TERRITORIAL_LEVELS, GridIndex, LocateStatus
from geogrid.spatial.testing import voronoi_grids

LON0, LAT0, UNIT = 120.5, 27.6, 0.01  # hand-made grids: 1 unit = 0.01 degree, about 1 km


def cell(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """Return a box in hand-made units, placed near Pingyang."""
    return box(LON0 + x0 * UNIT, LAT0 + y0 * UNIT, LON0 + x1 * UNIT, LAT0 + y1 * UNIT)


def at(x: float, y: float) -> tuple[float, float]:
    """Return lon, lat of a point in hand-made units."""
    return LON0 + x * UNIT, LAT0 + y * UNIT


def frame(rows: list[tuple[str, str, str | None, object]], crs: object = "EPSG:4326"):
    codes, levels, parents, geoms = zip(*rows, strict=True) if rows else ((), (), (), ())
    return gpd.GeoDataFrame(
        {"code": codes, "name": codes, "level": levels, "parent_code": parents},
        geometry=list(geoms),
        crs=crs,
    )


@pytest.fixture(scope="module")
def county() -> gpd.GeoDataFrame:
    """A 4 x 2 county with two towns, villages, micro-grids, a gap, an overlap, industry.

    ::

        y=2 +-------------------+-------------------+
            | 9-B-002  (no      | 9-A-002           |
            |  micro-grids)     |                   |
        y=1 +---------+---------+---------+---------+
            | 9-B-001 | 9-B-001 | 9-A-001 | 9-A-001 |
            |  -02    |  -01    | -01     | (gap)   |
        y=0 +---------+---------+---------+---------+
            x=0       1         2         3         4

    Town 9-B is the west half, 9-A the east half: on their shared edge x=2 the first
    code is the *east* town. The east villages overlap on 2 <= x <= 4, 0.9 <= y <= 1.
    """
    rows = [
        ("9", "county", None, cell(0, 0, 4, 2)),
        ("9-A", "town", "9", cell(2, 0, 4, 2)),
        ("9-B", "town", "9", cell(0, 0, 2, 2)),
        ("9-A-001", "village", "9-A", cell(2, 0, 4, 1)),
        ("9-A-002", "village", "9-A", cell(2, 0.9, 4, 2)),
        ("9-B-001", "village", "9-B", cell(0, 0, 2, 1)),
        ("9-B-002", "village", "9-B", cell(0, 1, 2, 2)),
        ("9-B-001-01", "micro", "9-B-001", cell(1, 0, 2, 1)),
        ("9-B-001-02", "micro", "9-B-001", cell(0, 0, 1, 1)),
        ("9-A-001-01", "micro", "9-A-001", cell(2, 0, 3, 1)),
        ("9-I02", "industry", None, cell(1.5, 0.5, 2.5, 1.5)),
        ("9-I01", "industry", None, cell(2, 0.5, 3, 1.5)),
    ]
    return frame(rows)


@pytest.fixture(scope="module")
def index(county: gpd.GeoDataFrame) -> GridIndex:
    return GridIndex.from_geodataframe(county)


def chain(index: GridIndex, x: float, y: float) -> tuple[str | None, ...]:
    found = index.locate_one(*at(x, y))
    return tuple(found.code(level) for level in TERRITORIAL_LEVELS)


def test_interior_points_get_their_whole_chain(index: GridIndex) -> None:
    assert chain(index, 0.5, 0.5) == ("9", "9-B", "9-B-001", "9-B-001-02")
    assert chain(index, 2.5, 0.5) == ("9", "9-A", "9-A-001", "9-A-001-01")
    assert index.locate_one(*at(2.5, 0.5)).status is LocateStatus.OK


def test_shared_edge_goes_to_first_code_whichever_side(index: GridIndex) -> None:
    # x=2 separates town 9-B (west) and 9-A (east): 9-A sorts first.
    assert chain(index, 2, 0.25)[:2] == ("9", "9-A")
    # x=1 separates micro 9-B-001-02 (west) and 9-B-001-01 (east): east sorts first.
    assert chain(index, 1, 0.5)[3] == "9-B-001-01"
    # y=1 separates 9-B-001 (south) and 9-B-002 (north): south sorts first.
    assert chain(index, 0.5, 1)[2] == "9-B-001"


def test_shared_vertex_goes_to_first_code(index: GridIndex) -> None:
    # (2, 1) is a vertex of both towns and three villages (and inside 9-A-002).
    assert chain(index, 2, 1) == ("9", "9-A", "9-A-001", "9-A-001-01")
    # County corner and edge: boundary is covered.
    assert chain(index, 0, 0) == ("9", "9-B", "9-B-001", "9-B-001-02")
    assert chain(index, 4, 2)[:3] == ("9", "9-A", "9-A-002")


def test_overlap_goes_to_first_code(index: GridIndex) -> None:
    assert chain(index, 3.5, 0.95)[2] == "9-A-001"
    assert chain(index, 3.5, 1.5)[2] == "9-A-002"


def test_gap_names_nearest_grid_and_distance(index: GridIndex, county) -> None:
    # 9-A-001 has micro-grids, but its east half (x > 3) has none: a micro-level gap.
    found = index.locate_one(*at(3.6, 0.5))
    assert found.status is LocateStatus.GAP
    assert found.village_code == "9-A-001"
    assert found.micro_code is None
    (gap,) = found.gaps
    assert gap.level == "micro"
    assert gap.nearest_code == "9-A-001-01"
    metric = county.to_crs(32651)
    point = gpd.GeoSeries([shapely.Point(at(3.6, 0.5))], crs=4326).to_crs(32651)
    expected = metric.loc[county["code"] == "9-A-001-01"].distance(point.iloc[0]).iloc[0]
    assert gap.distance_m == pytest.approx(expected, rel=2e-3)
    assert gap.distance_m == pytest.approx(0.6 * UNIT * 111_320 * np.cos(np.radians(LAT0)), 0.01)


def test_level_without_grids_there_is_not_a_gap(index: GridIndex) -> None:
    # 9-B-002 has no micro-grids: no micro level there.
    found = index.locate_one(*at(0.5, 1.5))
    assert found.status is LocateStatus.OK
    assert found.micro_code is None
    assert found.gaps == ()


def test_outside_points_have_no_owner(index: GridIndex) -> None:
    found = index.locate_one(*at(-1, 0.5))
    assert found.status is LocateStatus.OUTSIDE
    assert (found.county_code, found.town_code, found.village_code, found.micro_code) == (
        None,
        None,
        None,
        None,
    )
    assert found.gaps == ()
    assert found.industry_codes == ()


def test_industry_grids_overlay_the_tree(index: GridIndex) -> None:
    found = index.locate_one(*at(2.25, 0.75))
    assert found.industry_codes == ("9-I01", "9-I02")
    assert found.micro_code == "9-A-001-01"
    assert index.locate_one(*at(1.75, 0.75)).industry_codes == ("9-I02",)
    # Boundary of an industry grid counts.
    assert index.locate_one(*at(3, 1.5)).industry_codes == ("9-I01",)
    assert index.locate_one(*at(0.5, 0.5)).industry_codes == ()


def test_county_gap_when_a_town_spills_out() -> None:
    grids = frame(
        [
            ("5", "county", None, cell(0, 0, 2, 2)),
            ("5-A", "town", "5", cell(0, 0, 2.5, 2)),
        ]
    )
    found = GridIndex.from_geodataframe(grids).locate_one(*at(2.2, 1))
    assert found.status is LocateStatus.GAP
    assert found.town_code == "5-A"
    assert [(g.level, g.nearest_code) for g in found.gaps] == [("county", "5")]
    assert found.gaps[0].distance_m == pytest.approx(0.2 * UNIT * 98_800, rel=0.02)


def test_parent_from_code_prefix_when_parent_code_is_missing() -> None:
    grids = frame(
        [
            ("5", "county", None, cell(0, 0, 2, 2)),
            ("5-A", "town", None, cell(0, 0, 1, 2)),
        ]
    )
    found = GridIndex.from_geodataframe(grids).locate_one(*at(1.5, 1))
    assert found.status is LocateStatus.GAP
    assert found.gaps[0].level == "town"


def test_multipolygon_and_hole() -> None:
    ring = Polygon(
        [at(0, 0), at(3, 0), at(3, 3), at(0, 3)], [[at(1, 1), at(2, 1), at(2, 2), at(1, 2)]]
    )
    grids = frame(
        [
            ("7-1", "town", None, ring),
            ("7-2", "town", None, MultiPolygon([cell(1, 1, 2, 2), cell(4, 0, 5, 1)])),
        ]
    )
    index = GridIndex.from_geodataframe(grids)
    found = index.locate(
        [at(1.5, 1.5)[0], at(4.5, 0.5)[0], at(0.5, 0.5)[0], at(1, 1.5)[0]],
        [at(1.5, 1.5)[1], at(4.5, 0.5)[1], at(0.5, 0.5)[1], at(1, 1.5)[1]],
    )
    assert found.codes("town").tolist() == ["7-2", "7-2", "7-1", "7-1"]


def test_locate_and_locate_one_agree(index: GridIndex, county) -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(-0.5, 4.5, 200)
    y = rng.uniform(-0.5, 2.5, 200)
    lon, lat = at(x, y)
    many = index.locate(lon, lat)
    for i in range(0, 200, 7):
        assert index.locate_one(float(lon[i]), float(lat[i])) == many.point(i)
    scalar = index.locate(float(lon[0]), float(lat[0]))
    assert len(scalar) == 1
    assert scalar.point(0) == many.point(0)


def test_to_frame_has_one_row_per_point(index: GridIndex) -> None:
    lon, lat = at(np.array([0.5, 3.6, -1.0, 2.25]), np.array([0.5, 0.5, 0.5, 0.75]))
    table = index.locate(lon, lat).to_frame()
    assert len(table) == 4
    assert table["status"].astype(str).tolist() == ["ok", "gap", "outside", "ok"]
    assert table["micro_code"].fillna("-").tolist() == ["9-B-001-02", "-", "-", "9-A-001-01"]
    assert table["industry_codes"].tolist() == [[], [], [], ["9-I01", "9-I02"]]
    assert table["micro_nearest_code"].isna().tolist() == [True, False, True, True]
    assert table.loc[1, "micro_nearest_code"] == "9-A-001-01"
    assert np.isnan(table.loc[0, "micro_nearest_m"])
    assert table.loc[1, "micro_nearest_m"] > 500


def test_refuses_other_crs(county) -> None:
    with pytest.raises(UnknownCRSError, match="EPSG:4326"):
        GridIndex.from_geodataframe(county.to_crs(32651))
    with pytest.raises(UnknownCRSError):
        GridIndex.from_geodataframe(county.set_crs(None, allow_override=True))
    assert issubclass(UnknownCRSError, ValueError)
    # a frame in WGS 84 accepted first (its CRS object then no longer asked of PROJ)
    # does not let another through after it, nor the same one in lat/lon axis order
    GridIndex.from_geodataframe(county)
    with pytest.raises(UnknownCRSError):
        GridIndex.from_geodataframe(county.to_crs(3857))
    GridIndex.from_geodataframe(
        county.set_crs("urn:ogc:def:crs:OGC:1.3:CRS84", allow_override=True)
    )
    GridIndex.from_geodataframe(county)


@pytest.mark.parametrize(
    ("rows", "error", "match"),
    [
        ([("1", "county", None, cell(0, 0, 1, 1))] * 2, IngestError, "not unique"),
        ([("1", "province", None, cell(0, 0, 1, 1))], IngestError, "unknown grid level"),
        ([("", "county", None, cell(0, 0, 1, 1))], IngestError, "missing or empty"),
        ([("1", "county", None, shapely.Point(at(0, 0)))], InvalidGeometryError, "polygon"),
        ([("1", "county", None, Polygon())], InvalidGeometryError, "empty"),
        (
            [("1", "county", None, Polygon([at(0, 0), at(1, 1), at(1, 0), at(0, 1)]))],
            InvalidGeometryError,
            "invalid",
        ),
    ],
)
def test_refuses_bad_grids(rows, error, match) -> None:
    with pytest.raises(error, match=match):
        GridIndex.from_geodataframe(frame(rows))


def test_refuses_missing_column(county) -> None:
    with pytest.raises(IngestError, match="level"):
        GridIndex.from_geodataframe(county.drop(columns="level"))


def test_refuses_bad_points(index: GridIndex) -> None:
    with pytest.raises(AxisOrderError):
        index.locate([27.6], [120.5])
    with pytest.raises(InvalidGeometryError, match="not finite"):
        index.locate([120.5, np.nan], [27.6, 27.6])
    with pytest.raises(InvalidGeometryError, match="same length"):
        index.locate([120.5, 120.6], [27.6])
    with pytest.raises(GeoGridError):
        index.locate([500.0], [27.6])


def test_empty_grids_and_empty_points(index: GridIndex) -> None:
    empty = GridIndex.from_geodataframe(frame([]))
    assert len(empty) == 0
    found = empty.locate([120.5, 121.0], [27.6, 28.0])
    assert found.status.tolist() == ["outside", "outside"]
    assert found.codes("county").tolist() == [None, None]
    none = index.locate(np.zeros(0), np.zeros(0))
    assert len(none) == 0
    table = none.to_frame()
    assert len(table) == 0
    assert "micro_code" in table.columns


def test_result_arrays_have_documented_shapes(index: GridIndex) -> None:
    found = index.locate(*at(np.array([0.5, 3.6, -1.0]), np.array([0.5, 0.5, 0.5])))
    assert found.owner_row.shape == (3, 4)
    assert found.owner_row.dtype == np.int32
    assert found.grid_codes[found.owner_row[0, 3]] == "9-B-001-02"
    assert found.owner_row[2].tolist() == [-1, -1, -1, -1]
    # One gap: point 1 at the micro level.
    assert found.gap_point.tolist() == [1]
    assert found.gap_level.tolist() == [TERRITORIAL_LEVELS.index("micro")]
    assert found.grid_codes[found.gap_row[0]] == "9-A-001-01"
    assert found.nearest_distances_m("micro")[1] == found.gap_distance_m[0]
    assert np.isnan(found.nearest_distances_m("village")).all()
    with pytest.raises(ValueError, match="unknown territorial level"):
        found.codes("industry")


# --- agreement with a brute force -------------------------------------------------------


def brute_force(grids: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray):
    """Return per-level min covering code and industry code lists, by plain shapely."""
    geoms = grids.geometry.to_numpy()
    codes, levels = grids["code"].to_numpy(), grids["level"].to_numpy()
    point, grid = shapely.STRtree(geoms).query(shapely.points(lon, lat), predicate="intersects")
    covers = shapely.covers(geoms[grid], shapely.points(lon[point], lat[point]))
    assert covers.all()  # intersects == covers for a point and a polygon
    owners: dict[str, list[str | None]] = {level: [None] * len(lon) for level in TERRITORIAL_LEVELS}
    industry: list[list[str]] = [[] for _ in lon]
    for p, g in zip(point.tolist(), grid.tolist(), strict=True):
        code, level = codes[g], levels[g]
        if level == "industry":
            industry[p].append(code)
        elif owners[level][p] is None or code < owners[level][p]:
            owners[level][p] = code
    return owners, [sorted(codes) for codes in industry]


def messy(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the tiling with a micro-grid removed (gap) and one village grown (overlap)."""
    grids = grids.copy()
    micro = grids.index[grids["level"] == "micro"]
    grids = grids.drop(index=micro[3])
    village = grids.index[grids["level"] == "village"][2]
    grids.loc[village, "geometry"] = grids.loc[village, "geometry"].buffer(0.002)
    return grids.reset_index(drop=True)


def probe_points(grids: gpd.GeoDataFrame, n_random: int, seed: int):
    """Return random points plus every vertex and some edge midpoints of the grids."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = grids.total_bounds
    pad = 0.05 * (xmax - xmin)
    x = rng.uniform(xmin - pad, xmax + pad, n_random)
    y = rng.uniform(ymin - pad, ymax + pad, n_random)
    vertices = np.unique(shapely.get_coordinates(grids.geometry.to_numpy()), axis=0)
    pick = vertices[rng.choice(len(vertices), size=min(len(vertices), 3000), replace=False)]
    mids = (pick[:-1] + pick[1:]) / 2  # mostly not on an edge: ordinary points
    rings = shapely.get_coordinates(grids.geometry.boundary.to_numpy())
    edge_mids = (rings[:-1] + rings[1:]) / 2
    edge_mids = edge_mids[rng.choice(len(edge_mids), size=min(len(edge_mids), 1000), replace=False)]
    xy = np.concatenate([np.c_[x, y], pick, mids, edge_mids])
    return xy[:, 0], xy[:, 1]


@pytest.fixture(scope="module")
def generated() -> gpd.GeoDataFrame:
    return messy(voronoi_grids(60, 20, 4, n_industry=5, vertices_per_micro=30, seed=7))


@pytest.mark.parametrize("cells_per_grid", [2, 64, 4096])
def test_agrees_with_brute_force(generated: gpd.GeoDataFrame, cells_per_grid: float) -> None:
    index = GridIndex.from_geodataframe(generated, cells_per_grid=cells_per_grid)
    lon, lat = probe_points(generated, 3000, seed=cells_per_grid)
    # Points on the raster's cell corners and edges, where rounding could pick a cell.
    frame, rng = index._frame, np.random.default_rng(0)
    i, j = rng.integers(0, frame.nx, 1000), rng.integers(0, frame.ny, 1000)
    corner_x, corner_y = frame.x0 + i * frame.dx, frame.y0 + j * frame.dy
    lon = np.r_[lon, corner_x, corner_x, lon[:1000]]
    lat = np.r_[lat, corner_y, lat[:1000], corner_y]
    found = index.locate(lon, lat)
    owners, industry = brute_force(generated, lon, lat)
    for level in TERRITORIAL_LEVELS:
        assert found.codes(level).tolist() == owners[level], level
    assert found.industry_codes() == industry
    # The generated set has a gap (a missing micro-grid) and an overlap: both happen.
    assert set(found.status.tolist()) == {"ok", "gap", "outside"}


def test_gap_nearest_agrees_with_brute_force(generated: gpd.GeoDataFrame) -> None:
    index = GridIndex.from_geodataframe(generated)
    lon, lat = probe_points(generated, 3000, seed=1)
    found = index.locate(lon, lat)
    at_micro = found.gap_level == TERRITORIAL_LEVELS.index("micro")
    gap = found.gap_point[at_micro]
    assert gap.size > 10
    metric = generated.to_crs(32651)
    micro = metric[metric["level"] == "micro"]
    points = gpd.GeoSeries(gpd.points_from_xy(lon[gap], lat[gap]), crs=4326).to_crs(32651)
    nearest_m = found.gap_distance_m[at_micro]
    nearest_code = found.grid_codes[found.gap_row[at_micro]]
    for point, distance, code in zip(points, nearest_m, nearest_code, strict=True):
        distances = micro.distance(point)
        assert distance == pytest.approx(distances.min(), rel=3e-3, abs=0.01)
        assert code == micro.loc[distances.idxmin(), "code"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_micro=st.integers(2, 30),
    village_share=st.floats(0.1, 1.0),
    wiggle=st.sampled_from([0.0, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_one_owner_per_level_inside_the_union(n_micro, village_share, wiggle, seed) -> None:
    n_village = max(1, round(n_micro * village_share))
    grids = voronoi_grids(n_micro, n_village, 1, vertices_per_micro=16, wiggle=wiggle, seed=seed)
    index = GridIndex.from_geodataframe(grids, cells_per_grid=16)
    lon, lat = probe_points(grids, 300, seed=seed)
    found = index.locate(lon, lat)
    county = grids.geometry[grids["level"] == "county"].iloc[0]
    inside = shapely.covers(county, shapely.points(lon, lat))
    # Inside the union every level has exactly one owner, and that owner covers the point.
    assert (found.status[inside] == "ok").all()
    assert (found.owner_row[inside] >= 0).all()
    assert (found.status[~inside] == "outside").all()
    geoms = grids.geometry.to_numpy()
    rows = found.owner_row[inside]
    points = shapely.points(lon[inside], lat[inside])
    for k in range(len(TERRITORIAL_LEVELS)):
        assert shapely.covers(geoms[rows[:, k]], points).all()
    owners, _ = brute_force(grids, lon, lat)
    for level in TERRITORIAL_LEVELS:
        assert found.codes(level).tolist() == owners[level]


def test_pickled_index_answers_alike(index: GridIndex, county) -> None:
    """The index travels to Dask workers pickled: the copy gives the same answers,
    gaps included (its metric trees and lock are rebuilt on the worker)."""
    import pickle

    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = county.total_bounds
    lon = rng.uniform(x0 - 0.01, x1 + 0.01, 500)
    lat = rng.uniform(y0 - 0.01, y1 + 0.01, 500)
    index.locate(lon, lat)  # builds metric trees the pickle must leave out
    copy = pickle.loads(pickle.dumps(index))
    original, copied = index.locate(lon, lat), copy.locate(lon, lat)
    assert [original.point(i) for i in range(500)] == [copied.point(i) for i in range(500)]
    statuses = {str(copied.point(i).status) for i in range(500)}
    assert {"ok", "outside"} <= statuses
