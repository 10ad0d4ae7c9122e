"""The grid index county by county (``GEOGRID_GRID_COUNTIES``) on real PostGIS: 3
generated counties, one county's index held at a time; the answers (chain, gaps,
industry grids, workers) equal the whole index's; a second worker loads the counties'
snapshots and builds nothing; a grid edit builds again only its own county's index."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, text

from geogrid.db.queries.layers import bump_version
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.county_grids import CountyIndexes
from tests.db.test_county_addresses import province_db  # noqa: F401  (the fixture)

pytestmark = pytest.mark.db


def points_of(grids: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Random points over the counties and beyond, and points on the counties' borders."""
    rng = np.random.default_rng(4)
    xmin, ymin, xmax, ymax = grids.total_bounds
    x = rng.uniform(xmin - 0.02, xmax + 0.02, 400)
    y = rng.uniform(ymin - 0.02, ymax + 0.02, 400)
    borders = grids.loc[grids["level"] == "county"].geometry.boundary.to_numpy()
    on = shapely.line_interpolate_point(rng.choice(borders, 60), rng.random(60), normalized=True)
    xy = shapely.get_coordinates(on)
    return np.r_[x, xy[:, 0]], np.r_[y, xy[:, 1]]


def state_of(ws: Workspace) -> CountyIndexes:
    return ws.cached("grid_counties", (), lambda: pytest.fail("no county indexes"))


def test_county_by_county_grids_answer_as_the_whole(
    province_db: tuple[Engine, gpd.GeoDataFrame],  # noqa: F811
    tmp_path: Path,
) -> None:
    engine, _ = province_db
    whole = Workspace(engine, Settings(cache_check_interval_s=0))
    grids = whole.grids()
    x, y = points_of(grids)
    expected = whole.locate_points(x, y)
    assert {a.status for a in expected} >= {"ok", "outside"}
    assert sum(bool(a.industry) for a in expected) > 0
    counties = sorted(grids.loc[grids["level"] == "county", "code"])

    settings = Settings(
        grid_counties=True,
        grid_cache_mb=1,  # one county's index at a time
        snapshot_dir=tmp_path / "snapshots",
        cache_check_interval_s=0,
    )
    first = Workspace(engine, settings)
    assert first.locate_points(x, y) == expected
    assert [first.locate_point(a, b) for a, b in zip(x[::10], y[::10], strict=True)] == expected[
        ::10
    ]
    state = state_of(first)
    assert sorted(state.built) == counties  # each county built once, and saved
    assert len(state.cache.held()) == 1

    # a second worker on the same data builds nothing: it loads the counties' snapshots
    second = Workspace(engine, settings)
    assert second.locate_points(x, y) == expected
    state = state_of(second)
    assert state.built == []
    assert state.updated == []
    assert state.cache.loads == len(counties)  # each from its snapshot, once per batch
    assert len(state.cache.held()) == 1

    # a micro-grid of one county moves: only that county's index is made again, from
    # the one held (GridIndex.updated)
    micro = grids.loc[(grids["level"] == "micro") & grids["code"].str.startswith(counties[1])]
    code = str(micro["code"].iloc[0])
    inside = micro.geometry.iloc[0].representative_point()
    assert second.locate_point(inside.x, inside.y).code("micro") == code  # county 2 held
    footprints = dict(state.footprints)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE grids SET geom = ST_Translate(geom, 0.002, 0) WHERE code = :code"),
            {"code": code},
        )
        bump_version(conn, "grids")
    near = np.random.default_rng(6).uniform(size=(200, 2))  # around the grid moved
    gx0, gy0, gx1, gy1 = micro.geometry.iloc[0].bounds
    nx, ny = gx0 - 0.003 + near[:, 0] * (gx1 - gx0 + 0.006), gy0 + near[:, 1] * (gy1 - gy0)
    before = whole.locate_points(nx, ny)
    second.locate_point(inside.x, inside.y)  # answered as before while the index is made
    assert second.wait_for_refresh(120)
    moved = second.locate_points(np.r_[x, nx], np.r_[y, ny])
    assert state.built == []
    assert state.updated == [counties[1]]
    kept = [f for digest, f in state.footprints.items() if footprints.get(digest) is f]
    assert len(kept) == len(counties) - 1  # the other counties' footprints were reused
    fresh = Workspace(engine, Settings(cache_check_interval_s=0))
    assert moved == fresh.locate_points(np.r_[x, nx], np.r_[y, ny])
    assert moved[len(x) :] != before  # the edit is seen
