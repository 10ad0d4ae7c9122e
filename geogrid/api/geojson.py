"""GeoDataFrames to RFC 7946 FeatureCollections (WGS 84, NaN as null), in one place."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["feature_collection", "records"]


def feature_collection(
    frame: gpd.GeoDataFrame, columns: Sequence[str] | None = None
) -> dict[str, Any]:
    """Return ``frame`` as a GeoJSON FeatureCollection with only ``columns`` as properties."""
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    keep = [
        c for c in (columns or frame.columns) if c in frame.columns and c != frame.geometry.name
    ]
    plain = frame[[*keep, frame.geometry.name]].copy()
    for column in keep:
        if plain[column].dtype == object or str(plain[column].dtype).startswith(("string", "str")):
            plain[column] = plain[column].astype(object).where(plain[column].notna(), None)
    return json.loads(plain.to_json(na="null", drop_id=True, to_wgs84=False))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return a plain table as JSON-ready rows (NaN as None, numpy scalars as Python)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        {
            key: (value.item() if isinstance(value, np.generic) else value)
            for key, value in row.items()
        }
        for row in clean.to_dict(orient="records")
    ]
