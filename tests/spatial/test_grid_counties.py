"""The grid index split by county (:mod:`geogrid.spatial.gridcounties`) answers as the
whole :class:`GridIndex`, holding one county's index at a time: on 3 generated counties
(two sharing a straight border, one overlapping both), with industry grids across
counties, a micro-grid spilling over its county's border, gaps, grids whose county is
missing, and points on borders, in gaps and outside every county."""

from __future__ import annotations

import pickle
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geogrid.errors import GeoGridError
from geogrid.spatial.gridcounties import CountyGridIndex, county_trees, self_loading
from geogrid.spatial.gridindex import GridIndex
from geogrid.spatial.testing import voronoi_grids


class OneCounty:
    """County indexes from pickles (as from snapshots), one held at a time; counts loads."""

    def __init__(self, pickled: dict[str, bytes]) -> None:
        self._pickled = pickled
        self.held: dict[str, GridIndex] = {}
        self.loads: list[str] = []

    def __call__(self, county: str) -> GridIndex:
        if county not in self.held:
            self.loads.append(county)
            self.held.clear()
            self.held[county] = pickle.loads(self._pickled[county])
        return self.held[county]


@pytest.fixture(scope="module")
def grids() -> gpd.GeoDataFrame:
    a = voronoi_grids(30, 8, 3, n_industry=1, bounds=(120.0, 27.5, 120.2, 27.7), wiggle=0,
                      county_code="330301", seed=1)  # fmt: skip
    b = voronoi_grids(30, 8, 3, bounds=(120.2, 27.5, 120.4, 27.7), wiggle=0,
                      county_code="330302", seed=2)  # fmt: skip
    c = voronoi_grids(30, 8, 3, n_industry=2, bounds=(120.1, 27.7, 120.3, 27.9),
                      county_code="330303", seed=3)  # fmt: skip
    frame = pd.concat([a, b, c], ignore_index=True)
    # a gap: a micro-grid of county A gone; a town of county B gone (its villages and
    # micro-grids are then in no county's tree)
    gone = {str(a.loc[a["level"] == "micro", "code"].iloc[4]), "330302-102"}
    frame = frame.loc[~frame["code"].isin(gone)]
    village = str(a.loc[a["level"] == "village", "code"].iloc[0])
    extra = gpd.GeoDataFrame(
        {
            "code": ["330301-I99", "330302-I98", f"{village}-99"],
            "name": ["across", "inside across", "spill"],
            "level": ["industry", "industry", "micro"],
            "parent_code": [None, None, village],
        },  # industry grids across the A/B border; a micro-grid of A spilling into B
        geometry=[
            shapely.box(120.15, 27.55, 120.25, 27.65),
            shapely.box(120.18, 27.58, 120.22, 27.62),
            shapely.box(120.19, 27.6, 120.21, 27.62),
        ],
        crs="EPSG:4326",
    )
    return gpd.GeoDataFrame(pd.concat([frame, extra], ignore_index=True), crs="EPSG:4326")


@pytest.fixture(scope="module")
def indexes(grids: gpd.GeoDataFrame) -> tuple[GridIndex, CountyGridIndex, OneCounty]:
    whole = GridIndex.from_geodataframe(grids)
    builder = CountyGridIndex(grids, lambda county: pytest.fail("not through the loader"))
    pickled = {c: pickle.dumps(builder.build(c)) for c in builder.counties}
    loader = OneCounty(pickled)
    return whole, CountyGridIndex(grids, loader), loader


def border_points(grids: gpd.GeoDataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points on the boundaries of the counties and towns, and on their vertices."""
    rng = np.random.default_rng(11)
    outlines = grids.loc[grids["level"].isin(["county", "town"])].geometry.boundary.to_numpy()
    lines = rng.choice(outlines, n)
    on_lines = shapely.line_interpolate_point(lines, rng.random(n), normalized=True)
    vertices = shapely.get_coordinates(outlines)
    vertices = vertices[rng.choice(len(vertices), n)]
    xy = np.r_[shapely.get_coordinates(on_lines), vertices, [[120.2, 27.6], [120.2, 27.7]]]
    return xy[:, 0], xy[:, 1]


def test_county_trees_split_the_grids(grids: gpd.GeoDataFrame) -> None:
    trees, rest = county_trees(grids)
    assert sorted(trees) == ["330301", "330302", "330303"]
    rows = np.concatenate([*trees.values(), rest])
    assert sorted(rows.tolist()) == list(range(len(grids)))  # each grid once
    for county, tree in trees.items():
        assert grids["code"].iloc[tree[0]] == county
        assert grids["code"].iloc[tree].str.startswith(county).all()
    in_rest = grids.iloc[rest]
    assert set(in_rest["level"]) == {"industry", "village", "micro"}
    assert in_rest.loc[in_rest["level"] != "industry", "code"].str.startswith("330302-102").all()


def test_answers_equal_the_whole_index(
    grids: gpd.GeoDataFrame, indexes: tuple[GridIndex, CountyGridIndex, OneCounty]
) -> None:
    whole, split, loader = indexes
    rng = np.random.default_rng(5)
    bx, by = border_points(grids, 300)
    x = np.r_[rng.uniform(119.95, 120.45, 3000), bx]
    y = np.r_[rng.uniform(27.45, 27.95, 3000), by]
    expected = whole.locate(x, y)
    found = split.locate(x, y)
    pd.testing.assert_frame_equal(found.to_frame(), expected.to_frame())
    np.testing.assert_array_equal(found.owner_row, expected.owner_row)
    statuses = set(expected.status.tolist())
    assert statuses == {"ok", "gap", "outside"}
    gaps = expected.to_frame()
    assert gaps["town_nearest_code"].notna().any()
    assert gaps["micro_nearest_code"].notna().any()
    assert any(len(c) >= 2 for c in expected.industry_codes())  # overlapping industry grids
    assert len(loader.held) == 1
    assert set(loader.loads) == {"330301", "330302", "330303"}
    # independently: the county is the first code among the county polygons covering it
    counties = grids.loc[grids["level"] == "county"].sort_values("code")
    covers = shapely.covers(counties.geometry.to_numpy()[:, None], shapely.points(x, y)[None, :])
    first = np.where(covers.any(axis=0), covers.argmax(axis=0), -1)
    names = np.r_[counties["code"].to_numpy(dtype=object), [None]]
    assert found.codes("county").tolist() == names[first].tolist()
    assert (covers.sum(axis=0) >= 2).sum() > 50  # many points on county borders


def test_one_point_at_a_time(
    grids: gpd.GeoDataFrame, indexes: tuple[GridIndex, CountyGridIndex, OneCounty]
) -> None:
    whole, split, loader = indexes
    rng = np.random.default_rng(8)
    bx, by = border_points(grids, 15)
    x = np.r_[rng.uniform(119.95, 120.45, 150), bx]
    y = np.r_[rng.uniform(27.45, 27.95, 150), by]
    for lon, lat in zip(x, y, strict=True):
        assert split.locate_one(lon, lat) == whole.locate_one(lon, lat)
    loader.loads.clear()
    loader.held.clear()
    split.locate_one(120.05, 27.55)  # inside county A, away from its borders
    assert loader.loads == ["330301"]
    assert split.counties_at(120.2, 27.6) == ["330301", "330302"]


def test_bad_points_are_refused_alike(
    indexes: tuple[GridIndex, CountyGridIndex, OneCounty],
) -> None:
    whole, split, _ = indexes
    for lon, lat in (([27.6], [120.1]), ([np.nan], [27.6]), ([1.0, 2.0], [1.0])):
        with pytest.raises(GeoGridError) as expected:
            whole.locate(lon, lat)
        with pytest.raises(type(expected.value), match=re.escape(str(expected.value))):
            split.locate(lon, lat)


def test_a_pickled_copy_builds_its_counties(
    grids: gpd.GeoDataFrame, indexes: tuple[GridIndex, CountyGridIndex, OneCounty]
) -> None:
    whole, split, _ = indexes
    copy = pickle.loads(pickle.dumps(split))  # as shipped to a Dask worker
    x, y = np.array([120.05, 120.2, 120.3, 121.0]), np.array([27.55, 27.6, 27.8, 27.0])
    pd.testing.assert_frame_equal(copy.locate(x, y).to_frame(), whole.locate(x, y).to_frame())


def test_one_point_at_a_time_when_only_industry_grids_are_in_no_county(
    grids: gpd.GeoDataFrame,
) -> None:
    trees, _ = county_trees(grids)
    kept = grids.iloc[np.sort(np.concatenate(list(trees.values())))]
    kept = gpd.GeoDataFrame(
        pd.concat([kept, grids.loc[grids["level"] == "industry"]]), crs="EPSG:4326"
    )
    whole = GridIndex.from_geodataframe(kept)
    split = self_loading(kept)  # each county built once, and kept
    rng = np.random.default_rng(9)
    bx, by = border_points(kept, 15)
    x = np.r_[rng.uniform(119.95, 120.45, 200), bx]
    y = np.r_[rng.uniform(27.45, 27.95, 200), by]
    answers = [split.locate_one(lon, lat) for lon, lat in zip(x, y, strict=True)]
    assert answers == [whole.locate_one(lon, lat) for lon, lat in zip(x, y, strict=True)]
    assert sum(len(a.industry_codes) >= 2 for a in answers) > 0


def test_no_grids() -> None:
    grids = gpd.GeoDataFrame(
        {"code": [], "level": [], "parent_code": []}, geometry=[], crs="EPSG:4326"
    )
    whole, split = GridIndex.from_geodataframe(grids), self_loading(grids)
    x, y = [120.1, 0.0], [27.6, 0.0]
    pd.testing.assert_frame_equal(split.locate(x, y).to_frame(), whole.locate(x, y).to_frame())
    assert split.locate_one(120.1, 27.6) == whole.locate_one(120.1, 27.6)
