"""Operators' corrections as aliases: a normalised text that means a grid or an address.

An operator who finds a text answered wrongly stores a correction (``this text → that
grid`` or ``→ that standard address``); the matcher answers the same text, after its
own normalisation (so full-width, spacing and traditional variants hit it too), with the
corrected place at :data:`ALIAS_CONFIDENCE` and the reason ``operator correction #id``.

Pure: the workspace reads the corrections, grids and gazetteer and hands them here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely

from geogrid.spatial.addresses._index import Point

__all__ = ["ALIAS_CONFIDENCE", "ALIAS_GRID_LEVELS", "Alias", "build_aliases"]

ALIAS_CONFIDENCE = 0.95
"""The confidence of an answer taken from an operator's correction: a person checked
it, but the text may still have been meant for another place by someone else."""

ALIAS_GRID_LEVELS: Mapping[str, str] = {"micro": "house", "village": "village", "town": "town"}
"""Grid levels a correction may point at, and the match level its answer claims (a
micro-grid gives the whole chain, a village grid stops at the village, a town at the
town)."""


@dataclass(frozen=True, slots=True)
class Alias:
    """What a corrected text means: a point and the names of the places it stands for."""

    correction_id: int
    level: str
    point: Point
    code: str | None = None
    full_text: str | None = None
    county: str | None = None
    town: str | None = None
    village: str | None = None
    road: str | None = None
    grid_code: str | None = None


def build_aliases(
    corrections: pd.DataFrame, grids: gpd.GeoDataFrame, gazetteer: gpd.GeoDataFrame
) -> dict[str, Alias]:
    """Return the aliases by normalised text.

    ``corrections`` has ``id``, ``normalized``, ``grid_code`` and ``address_code``;
    ``grids`` ``code``, ``name``, ``level``, ``parent_code`` and polygons (EPSG:4326);
    ``gazetteer`` the standard addresses with points (EPSG:4326). A correction whose
    grid or address no longer exists (deleted since) is left out.
    """
    if corrections.empty:
        return {}
    by_code = grids.set_index("code", drop=False) if len(grids) else grids
    addresses = gazetteer.set_index("code", drop=False) if len(gazetteer) else gazetteer
    out: dict[str, Alias] = {}
    for row in corrections.itertuples(index=False):
        alias = None
        if isinstance(row.grid_code, str):
            alias = _grid_alias(int(row.id), row.grid_code, by_code)
        elif isinstance(row.address_code, str):
            alias = _address_alias(int(row.id), row.address_code, addresses)
        if alias is not None:
            out[str(row.normalized)] = alias
    return out


def _grid_alias(correction_id: int, code: str, grids: gpd.GeoDataFrame) -> Alias | None:
    if code not in grids.index:
        return None
    grid = grids.loc[code]
    level = ALIAS_GRID_LEVELS.get(str(grid["level"]))
    if level is None:
        return None
    names: dict[str, str] = {}
    current: str | None = code
    while current is not None and current in grids.index and len(names) < 8:
        ancestor = grids.loc[current]
        names.setdefault(str(ancestor["level"]), str(ancestor["name"]))
        parent = ancestor["parent_code"]
        current = parent if isinstance(parent, str) else None
    point = shapely.point_on_surface(grid[grids.geometry.name])
    return Alias(
        correction_id,
        level,
        (float(point.x), float(point.y)),
        county=names.get("county"),
        town=names.get("town"),
        village=names.get("village"),
        grid_code=code,
    )


def _address_alias(correction_id: int, code: str, gazetteer: gpd.GeoDataFrame) -> Alias | None:
    if code not in gazetteer.index:
        return None
    row = gazetteer.loc[code]
    point = row[gazetteer.geometry.name]

    def name(column: str) -> str | None:
        value = row.get(column)
        return str(value) if isinstance(value, str) and value else None

    return Alias(
        correction_id,
        "house",
        (float(point.x), float(point.y)),
        code=code,
        full_text=name("full_text"),
        county=name("county"),
        town=name("town"),
        village=name("village"),
        road=name("road"),
    )
