"""The workspace's matcher builder keeps the gazetteer index across an edit that leaves
the counties, towns and villages as they were, and builds it again otherwise."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geogrid.workspace._matchers import MatcherBuilder

DEMO = Path(__file__).resolve().parents[2] / "geodata" / "pingyang-demo.gpkg.zip"
NO_CORRECTIONS = pd.DataFrame()


@pytest.fixture(scope="module")
def demo() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    grids = gpd.read_file(DEMO, layer="grids").sort_values("code").reset_index(drop=True)
    gazetteer = gpd.read_file(DEMO, layer="addresses", rows=3000)
    return grids, gazetteer


def test_a_moved_micro_grid_keeps_the_index(demo: tuple) -> None:
    grids, gazetteer = demo
    builder = MatcherBuilder()
    first = builder.build(gazetteer, grids, NO_CORRECTIONS)
    moved = grids.copy()
    micro = moved.index[moved["level"] == "micro"][0]
    moved.loc[micro, "geometry"] = shapely.affinity.translate(moved.geometry[micro], 1e-5)
    assert builder.build(gazetteer, moved, NO_CORRECTIONS) is first
    # the same towns and villages as new objects (a fresh read): equal, kept
    copied = moved.copy()
    copied["geometry"] = gpd.GeoSeries.from_wkb(moved.geometry.to_wkb(), crs=moved.crs)
    assert builder.build(gazetteer, copied, NO_CORRECTIONS) is first


@pytest.mark.parametrize("level", ["county", "town", "village"])
def test_a_changed_place_builds_it_again(demo: tuple, level: str) -> None:
    grids, gazetteer = demo
    builder = MatcherBuilder()
    first = builder.build(gazetteer, grids, NO_CORRECTIONS)
    renamed = grids.copy()
    row = renamed.index[renamed["level"] == level][0]
    renamed.loc[row, "name"] = "新" + renamed.loc[row, "name"]
    assert builder.build(gazetteer, renamed, NO_CORRECTIONS) is not first
    reshaped = grids.copy()
    reshaped.loc[row, "geometry"] = shapely.affinity.translate(reshaped.geometry[row], 1e-5)
    assert builder.build(gazetteer, reshaped, NO_CORRECTIONS) is not first


def test_another_gazetteer_builds_it_again(demo: tuple) -> None:
    grids, gazetteer = demo
    builder = MatcherBuilder()
    first = builder.build(gazetteer, grids, NO_CORRECTIONS)
    assert builder.build(gazetteer.copy(), grids, NO_CORRECTIONS) is not first
