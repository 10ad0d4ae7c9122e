"""A locator built after an edit takes the grid and worker tables of the one before it
when their inputs are the same, and builds them again when they are not: its answers
are those of a locator built from nothing."""

from __future__ import annotations

import pickle
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest

from geogrid.spatial.gridindex import GridIndex
from geogrid.workspace.locate import Locator

DEMO = Path(__file__).resolve().parents[2] / "geodata" / "pingyang-demo.gpkg.zip"


@pytest.fixture(scope="module")
def demo() -> tuple[gpd.GeoDataFrame, GridIndex, object]:
    grids = gpd.read_file(DEMO, layer="grids").sort_values("code").reset_index(drop=True)
    workers = pyogrio.read_dataframe(DEMO, layer="grid_workers", read_geometry=False)
    return grids, GridIndex.from_geodataframe(grids), workers


def answers(locator: Locator, grids: gpd.GeoDataFrame) -> list:
    points = grids.geometry.representative_point()
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = grids.total_bounds
    x = np.r_[points.x.to_numpy()[::7], rng.uniform(x0, x1, 300)]
    y = np.r_[points.y.to_numpy()[::7], rng.uniform(y0, y1, 300)]
    return locator.points(x, y)


def test_same_inputs_share_the_tables(demo: tuple) -> None:
    grids, index, workers = demo
    first = Locator(grids, index, workers)
    moved = grids.copy()  # a geometry edit: codes, names and levels as they were
    follower = Locator(moved, index.updated(moved), workers, previous=first)
    assert follower.tables_built_from(*_inputs(moved, workers, False)) == (
        first.tables_built_from(*_inputs(grids, workers, False))
    )
    assert answers(follower, moved) == answers(Locator(moved, index, workers), moved)


def test_changed_inputs_build_them_again(demo: tuple) -> None:
    grids, index, workers = demo
    first = Locator(grids, index, workers)
    renamed = grids.copy()
    renamed.loc[renamed["level"] == "village", "name"] = renamed["name"] + "村委"
    other_workers = workers.copy()
    other_workers["name"] = other_workers["name"].str[:1] + "某"
    for frame, people, reveal in (
        (renamed, workers, False),  # new grid names
        (grids, other_workers, False),  # another workers frame
        (grids, workers, True),  # phones shown
    ):
        follower = Locator(frame, index, people, reveal_personal=reveal, previous=first)
        fresh = Locator(frame, index, people, reveal_personal=reveal)
        assert answers(follower, frame) == answers(fresh, frame)
    # the renamed villages are named in the answers, the masked phones stay masked
    named = Locator(renamed, index, workers, previous=first)
    assert any("村委" in str(a) for a in answers(named, renamed))
    shown = Locator(grids, index, workers, reveal_personal=True, previous=first)
    assert answers(shown, grids) != answers(first, grids)


def test_a_pickled_locator_holds_no_inputs_and_still_leads(demo: tuple) -> None:
    grids, index, workers = demo
    loaded = pickle.loads(pickle.dumps(Locator(grids, index, workers)))
    assert not hasattr(loaded, "_workers_frame")
    assert loaded.tables_built_from(*_inputs(grids, workers, False)) == (None, None)
    follower = Locator(grids, index, workers, previous=loaded)
    assert answers(follower, grids) == answers(loaded, grids)


def _inputs(grids: gpd.GeoDataFrame, workers: object, reveal: bool) -> tuple:
    columns = tuple(grids[c].tolist() for c in ("code", "name", "level"))
    return columns, (id(workers), reveal)
