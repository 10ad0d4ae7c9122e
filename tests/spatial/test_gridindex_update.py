"""GridIndex.updated: an index updated after an edit answers every point exactly as an
index built from scratch on the edited grids, and keeps what the edit did not touch."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geogrid.errors import InvalidGeometryError
from geogrid.spatial import _chaincache, _gridlevels
from geogrid.spatial.gridindex import GridIndex
from geogrid.spatial.testing import voronoi_grids

FIELDS = (
    "owner_row",
    "status",
    "gap_point",
    "gap_level",
    "gap_row",
    "gap_distance_m",
    "industry_point",
    "industry_row",
)


@pytest.fixture(scope="module")
def county() -> gpd.GeoDataFrame:
    grids = voronoi_grids(160, 24, 4, n_industry=4, seed=7)
    return grids.sort_values("code").reset_index(drop=True)


def assert_same_answers(updated: GridIndex, grids: gpd.GeoDataFrame, near: list) -> None:
    """Compare with an index built from scratch: random points over the county and
    beyond, every vertex of the edited polygons and the middle of every edge."""
    fresh = GridIndex.from_geodataframe(grids)
    rng = np.random.default_rng(len(grids))
    x0, y0, x1, y1 = grids.total_bounds
    coords = shapely.get_coordinates(np.asarray(near, dtype=object))
    middles = (coords[1:] + coords[:-1]) / 2
    x = np.r_[rng.uniform(x0 - 0.01, x1 + 0.01, 20_000), coords[:, 0], middles[:, 0]]
    y = np.r_[rng.uniform(y0 - 0.01, y1 + 0.01, 20_000), coords[:, 1], middles[:, 1]]
    ours, theirs = updated.locate(x, y), fresh.locate(x, y)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name), err_msg=name)
    for i in range(0, len(x), 37):  # the one-point path reads the same rasters
        assert updated.locate_one(x[i], y[i]) == fresh.locate_one(x[i], y[i])


def sorted_frame(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return grids.sort_values("code").reset_index(drop=True)


def neighbours(grids: gpd.GeoDataFrame, code: str) -> tuple[int, int]:
    """Return the rows of micro-grid ``code`` and of a sibling sharing a border with it."""
    a = int(np.flatnonzero(grids["code"] == code)[0])
    shape = grids.geometry.iloc[a]
    for b in np.flatnonzero(
        (grids["level"] == "micro") & (grids["parent_code"] == grids["parent_code"].iloc[a])
    ):
        if b != a and shape.intersection(grids.geometry.iloc[b]).length > 0:
            return a, int(b)
    raise AssertionError(f"{code} has no sibling")


def moved_border(grids: gpd.GeoDataFrame, a: int, b: int, radius: float) -> gpd.GeoDataFrame:
    """Return the grids with a disk around a point of the a|b border given to ``a``."""
    edited = grids.copy()
    shared = grids.geometry.iloc[a].boundary.intersection(grids.geometry.iloc[b].boundary)
    disk = shapely.get_point(shapely.get_exterior_ring(shared.buffer(1e-9)), 0).buffer(radius)
    taken = grids.geometry.iloc[b].intersection(disk)
    edited.loc[a, "geometry"] = shapely.make_valid(grids.geometry.iloc[a].union(taken))
    edited.loc[b, "geometry"] = shapely.make_valid(grids.geometry.iloc[b].difference(disk))
    return edited


def micro_codes(grids: gpd.GeoDataFrame) -> list[str]:
    return sorted(grids.loc[grids["level"] == "micro", "code"])


def test_a_moved_border_between_two_micro_grids(county: gpd.GeoDataFrame) -> None:
    index = GridIndex.from_geodataframe(county)
    a, b = neighbours(county, micro_codes(county)[40])
    edited = moved_border(county, a, b, 0.004)
    updated = index.updated(edited)
    before = [county.geometry.iloc[a], county.geometry.iloc[b]]
    assert_same_answers(
        updated, edited, [*before, edited.geometry.iloc[a], edited.geometry.iloc[b]]
    )
    # the levels above kept their rasters: only the micro-grids' was patched
    assert updated._territorial[2].cache is index._territorial[2].cache
    assert updated._territorial[3].cache is not index._territorial[3].cache
    # the old index answers as before (it is shared by requests still holding it)
    assert_same_answers(index, county, before)


def test_gap_distance_trees_are_kept_only_for_unchanged_levels(county: gpd.GeoDataFrame) -> None:
    index = GridIndex.from_geodataframe(county)
    for k in range(len(index._territorial)):  # every level's tree built, as by gap queries
        index._nearest(k, np.array([120.6]), np.array([27.6]))
    a, b = neighbours(county, micro_codes(county)[40])
    updated = index.updated(moved_border(county, a, b, 0.004))
    assert updated._metric_trees[2] is index._metric_trees[2]  # villages: the same polygons
    assert 3 not in updated._metric_trees  # micro-grids reshaped: built again when needed


def test_created_deleted_and_renamed_grids(county: gpd.GeoDataFrame) -> None:
    index = GridIndex.from_geodataframe(county)
    codes = micro_codes(county)
    gone = county.loc[county["code"] == codes[3]].geometry.iloc[0]
    spot = county.loc[county["code"] == codes[90]].geometry.iloc[0].representative_point()
    park = gpd.GeoDataFrame(
        {"code": ["330326-I99"], "name": ["新园区"], "level": ["industry"], "parent_code": [None]},
        geometry=[spot.buffer(0.01)],
        crs=county.crs,
    )
    edited = pd.concat([county[county["code"] != codes[3]], park], ignore_index=True)
    edited = sorted_frame(gpd.GeoDataFrame(edited, crs=county.crs))
    edited.loc[edited["code"] == codes[10], "name"] = "改名"
    updated = index.updated(edited)
    assert len(updated) == len(county)  # one gone, one new
    assert_same_answers(updated, edited, [gone, spot.buffer(0.01)])
    # a point where the micro-grid was is now in a gap at that level
    found = updated.locate_one(*gone.representative_point().coords[0])
    assert found.micro_code is None
    assert found.status.value == "gap"


def test_a_grid_moved_to_another_parent_and_level(county: gpd.GeoDataFrame) -> None:
    index = GridIndex.from_geodataframe(county)
    code = micro_codes(county)[20]
    edited = county.copy()
    row = edited["code"] == code
    other = sorted(county.loc[county["level"] == "village", "code"])[5]
    edited.loc[row, "parent_code"] = other  # lineage: the gap rules look at parents
    updated = index.updated(edited)
    assert_same_answers(updated, edited, list(county.geometry[row]))
    edited.loc[row, "level"] = "industry"  # a level change moves the polygon between rasters
    again = updated.updated(edited)
    assert_same_answers(again, edited, list(county.geometry[row]))


def test_many_edits_in_a_row_stay_exact(county: gpd.GeoDataFrame) -> None:
    index, grids = GridIndex.from_geodataframe(county), county
    codes = micro_codes(county)
    touched = []
    for k in range(6):
        a, b = neighbours(grids, codes[(k * 37) % len(codes)])
        touched += [grids.geometry.iloc[a], grids.geometry.iloc[b]]
        grids = moved_border(grids, a, b, 0.002 + 0.001 * k)
        index = index.updated(grids)
        touched += [grids.geometry.iloc[a], grids.geometry.iloc[b]]
    assert_same_answers(index, grids, touched)


def test_a_border_moved_to_and_fro_renumbers_the_chains(
    county: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Patches keep the chain numbers of the cells outside their window and add the
    window's new chains; the chains no cell holds pile up until they are renumbered."""
    index, grids = GridIndex.from_geodataframe(county), county
    numbered = len(index._chains.members) - 1
    assert index._chains.numbered == numbered
    # renumber once the table holds a few chains more than it numbered
    monkeypatch.setattr(_chaincache, "SPARE_CHAINS", 4 - numbered)
    a, b = neighbours(county, micro_codes(county)[60])
    moved = moved_border(county, a, b, 0.003)
    touched = [county.geometry.iloc[a], county.geometry.iloc[b], moved.geometry.iloc[a]]
    grew = renumbered = False
    for k in range(8):
        before = index._chains
        grids = moved if k % 2 == 0 else county
        index = index.updated(grids)
        chains = index._chains
        assert_same_answers(index, grids, [county.geometry.iloc[a], moved.geometry.iloc[a]])
        if chains.numbered == before.numbered:  # patched: the old numbers kept outside
            grew |= len(chains.members) > len(before.members)
            # and only cells near the moved border changed
            changed = np.flatnonzero(chains.label != before.label)
            x, y = chains.frame.centres(changed)
            f = chains.frame
            x0, y0, x1, y1 = shapely.bounds(shapely.union_all(touched))
            assert np.all((x > x0 - 3 * f.dx) & (x < x1 + 3 * f.dx))
            assert np.all((y > y0 - 3 * f.dy) & (y < y1 + 3 * f.dy))
        else:  # renumbered: every chain but the last ("none") is some cell's
            renumbered = True
            held = np.unique(chains.label[chains.label >= 0])
            np.testing.assert_array_equal(held, np.arange(len(chains.members) - 1))
    assert grew
    assert renumbered


def test_wide_edits_build_the_level_again(
    county: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = GridIndex.from_geodataframe(county)
    edited = county.copy()
    micro = np.flatnonzero(edited["level"] == "micro")
    edited.loc[micro[:3], "geometry"] = shapely.buffer(
        edited.geometry.iloc[micro[:3]].to_numpy(), -0.0005
    )
    edited.loc[micro[-3:], "geometry"] = shapely.buffer(
        edited.geometry.iloc[micro[-3:]].to_numpy(), -0.0005
    )
    monkeypatch.setattr(_gridlevels, "PATCH_LIMIT", 0.0)  # any window is too wide
    updated = index.updated(edited)
    assert_same_answers(updated, edited, list(county.geometry.iloc[np.r_[micro[:3], micro[-3:]]]))


def test_a_changed_extent_builds_from_scratch(county: gpd.GeoDataFrame) -> None:
    index = GridIndex.from_geodataframe(county)
    edited = county.copy()
    first = int(np.flatnonzero(edited["level"] == "county")[0])
    edited.loc[first, "geometry"] = edited.geometry.iloc[first].buffer(0.01)
    updated = index.updated(edited)
    assert updated._frame != index._frame
    assert_same_answers(updated, edited, [edited.geometry.iloc[first]])


def test_nothing_changed_shares_everything(county: gpd.GeoDataFrame) -> None:
    index = GridIndex.from_geodataframe(county)
    renamed = county.copy()
    renamed["name"] = renamed["name"] + "·"
    updated = index.updated(renamed)
    assert updated._chains is index._chains
    assert all(
        new.cache is old.cache
        for new, old in zip(updated._territorial, index._territorial, strict=True)
    )


def test_an_invalid_polygon_is_refused_as_a_build_would(county: gpd.GeoDataFrame) -> None:
    index = GridIndex.from_geodataframe(county)
    edited = county.copy()
    row = int(np.flatnonzero(edited["level"] == "micro")[0])
    x0, y0, x1, y1 = edited.geometry.iloc[row].bounds
    edited.loc[row, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    with pytest.raises(InvalidGeometryError, match="invalid"):
        index.updated(edited)
