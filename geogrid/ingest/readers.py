"""Read a layer from a file: GeoPackage, GeoJSON, Shapefile (zipped too), CSV or OSM.

Readers only read: they return the rows as they are in the file, with the file's CRS,
and leave checking and repairing to :mod:`geogrid.ingest.validate`. Every failure is an
:class:`~geogrid.errors.IngestError` naming the file (and the row and column, where there
are some): a geometry that cannot even be decoded (a ring that is not closed, too few
points) is refused here, and a bare GeoJSON geometry is refused with how to wrap it.
:func:`geometry_column` gives the file's own name for its geometry column, for messages.
"""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from geogrid.errors import IngestError
from geogrid.ingest.specs import LayerSpec

__all__ = ["geometry_column", "read_layer"]

_COLUMN = "geogrid_geometry_column"  # frame.attrs: the file's name for the geometry column
_OGR_LAYER = "geogrid_ogr_layer"  # frame.attrs: (GDAL source, layer), to ask it on demand

LON_NAMES = ("lon", "lng", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")
OSM_SUFFIXES = (".pbf", ".osm", ".o5m")
GEOJSON_GEOMETRIES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}
GEOS_REASONS = {  # GEOS's words for undecodable geometries, and ours
    "do not form a closed linestring": "a ring is not closed (its last point must repeat its "
    "first)",
    "Invalid number of points in LinearRing": "a ring has fewer than 4 points (3 corners and "
    "the first point repeated)",
}


def read_layer(path: str | Path, spec: LayerSpec, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Return the rows of ``path`` as a GeoDataFrame in the file's own CRS.

    The frame's index is the 1-based row number in the file, which every later error
    message quotes. A CSV or attribute table without geometry gets an empty geometry
    column (``crs`` None).
    """
    path = Path(path)
    if not path.exists():
        raise IngestError("file not found", path=str(path))
    name = path.name.lower()
    if name.endswith(OSM_SUFFIXES):
        from geogrid.ingest.osm import read_osm

        frame = read_osm(path, spec)
    elif name.endswith((".csv", ".txt", ".tsv")):
        frame = _read_csv(path, spec)
    else:
        frame = _read_ogr(path, spec, layer)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return frame


def _ogr_source(path: Path) -> str:
    """Return the GDAL path of a file, looking inside zip archives."""
    if not path.name.lower().endswith(".zip"):
        return str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
    except zipfile.BadZipFile as exc:
        raise IngestError("not a readable zip archive", path=str(path)) from exc
    for suffix in (".gpkg", ".shp", ".geojson", ".json", ".fgb"):
        inside = [m for m in members if m.lower().endswith(suffix)]
        if inside:
            return f"/vsizip/{path}/{inside[0]}"
    raise IngestError("the zip archive holds no GeoPackage, Shapefile or GeoJSON", path=str(path))


def _read_ogr(path: Path, spec: LayerSpec, layer: str | None) -> gpd.GeoDataFrame:
    source = _ogr_source(path)
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(source)]
    except (DataSourceError, DataLayerError) as exc:
        raise IngestError(f"cannot be read as a spatial file ({exc})", path=str(path)) from exc
    chosen = _choose_layer(path, layers, spec, layer)
    try:
        # undecodable geometries come back as None and are diagnosed below; GDAL's and
        # numpy's warnings about them (open rings, NaN) become that error instead
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(source, layer=chosen, on_invalid="ignore")
    except (DataSourceError, DataLayerError, ValueError) as exc:
        raise IngestError(f"layer {chosen!r} cannot be read ({exc})", path=str(path)) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)), crs=None)
    elif spec.geometry is not None:
        if len(frame.columns) == 1:  # a geometry and no properties at all
            _refuse_bare_geometry(path, spec)
        _refuse_undecodable(path, source, chosen, frame)
    frame.attrs[_OGR_LAYER] = (source, chosen)
    return frame


def geometry_column(frame: gpd.GeoDataFrame) -> str:
    """Return the name the file gives the geometry column of a frame from :func:`read_layer`.

    ``geometry`` in GeoJSON, usually ``geom`` in a GeoPackage, the WKT column or the
    lon/lat columns of a CSV. Asked of GDAL only when needed (for an error message):
    opening a large GeoPackage again takes a noticeable fraction of a second.
    """
    name = frame.attrs.get(_COLUMN)
    if name is None and _OGR_LAYER in frame.attrs:
        source, layer = frame.attrs[_OGR_LAYER]
        try:
            name = pyogrio.read_info(source, layer=layer)["geometry_name"]
        except (DataSourceError, DataLayerError):
            name = None
    return str(name or "geometry")


def _refuse_undecodable(path: Path, source: str, layer: str, frame: gpd.GeoDataFrame) -> None:
    """Raise for the first row whose geometry is in the file but could not be decoded."""
    missing = np.flatnonzero(frame.geometry.isna().to_numpy())
    if not len(missing):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, _, wkb, _ = pyogrio.raw.read(source, layer=layer, columns=[], read_geometry=True)
    for i in missing:
        if wkb[i] is None:
            continue  # no geometry at all: the validator says so
        try:
            with np.errstate(invalid="ignore"):
                shapely.from_wkb(wkb[i])
        except shapely.errors.ShapelyError as exc:
            raw = str(exc)
            reason = next((ours for key, ours in GEOS_REASONS.items() if key in raw), raw)
            frame.attrs[_OGR_LAYER] = (source, layer)
            raise IngestError(
                f"the geometry cannot be read: {reason}",
                path=str(path),
                row=int(i) + 1,
                column=geometry_column(frame),
            ) from exc


def _refuse_bare_geometry(path: Path, spec: LayerSpec) -> None:
    """Refuse a GeoJSON file that is one bare geometry, saying how to wrap it.

    A bare Polygon/MultiPolygon/... is accepted where the layer needs no property (its
    one row gets a generated code); otherwise the file must hold Features with properties.
    """
    if path.suffix.lower() not in (".geojson", ".json"):
        return
    try:
        with path.open(encoding="utf-8") as handle:
            document: Any = json.load(handle)
    except (OSError, ValueError):
        return  # GDAL read it; leave the file to the usual checks
    kind = document.get("type") if isinstance(document, dict) else None
    if kind not in GEOJSON_GEOMETRIES:
        return
    needed = [name for name in spec.required if not (name == "code" and spec.code_optional)]
    if not needed and kind != "GeometryCollection":
        return
    properties = ", ".join(f'"{name}": ...' for name in needed)
    feature = f'{{"type": "Feature", "properties": {{{properties}}}, "geometry": '
    if kind == "GeometryCollection":
        how = (
            "make each of its geometries one Feature with its own properties: "
            f'{{"type": "FeatureCollection", "features": [{feature}<first geometry>}}, '
            f"{feature}<second geometry>}}, ...]}}"
        )
    else:
        how = (
            "wrap it as a Feature with properties, in a FeatureCollection: "
            f'{{"type": "FeatureCollection", "features": [{feature}<this {kind}>}}]}}'
        )
    wanted = ", ".join(needed) or "its own row"
    raise IngestError(
        f"the file is a bare GeoJSON {kind}, not features: layer {spec.name!r} needs the "
        f"properties {wanted} on every feature; {how}",
        path=str(path),
    )


def _choose_layer(path: Path, layers: list[str], spec: LayerSpec, layer: str | None) -> str:
    if layer is not None:
        if layer not in layers:
            raise IngestError(
                f"has no layer {layer!r}; its layers are: {', '.join(layers)}", path=str(path)
            )
        return layer
    if len(layers) == 1:
        return layers[0]
    for candidate in (spec.name, *spec.aliases):
        if candidate in layers:
            return candidate
    raise IngestError(
        f"has {len(layers)} layers ({', '.join(layers)}); choose one with --layer",
        path=str(path),
    )


def _read_csv(path: Path, spec: LayerSpec) -> gpd.GeoDataFrame:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(f"cannot be read as CSV ({exc})", path=str(path)) from exc
    table.columns = [str(c).strip() for c in table.columns]
    table = table.replace({"": None})
    lowered = {c.lower(): c for c in table.columns}
    lon_col = next((lowered[n] for n in LON_NAMES if n in lowered), None)
    lat_col = next((lowered[n] for n in LAT_NAMES if n in lowered), None)
    wkt_col = next((lowered[n] for n in WKT_NAMES if n in lowered), None)
    if lon_col and lat_col:
        lon = _numbers(table[lon_col], path, lon_col)
        lat = _numbers(table[lat_col], path, lat_col)
        geometry = shapely.points(lon, lat)
        table = table.drop(columns=[lon_col, lat_col])
        column = f"{lon_col}, {lat_col}"
    elif wkt_col:
        geometry = _wkt(table[wkt_col], path, wkt_col)
        table = table.drop(columns=[wkt_col])
        column = wkt_col
    elif spec.geometry is None:
        geometry = np.full(len(table), None, dtype=object)
        column = "geometry"
    else:
        raise IngestError(
            "has no coordinates: expected lon/lat columns (lon, lng, longitude, x and lat, "
            f"latitude, y) or a WKT column; it has: {', '.join(table.columns)}",
            path=str(path),
        )
    frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometry), crs=None)
    frame.attrs[_COLUMN] = column
    return frame


def _numbers(column: pd.Series, path: Path, name: str) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        row = int(bad[0])
        text = column.iloc[row]
        message = (
            f"not a number: {text!r}"
            if np.isnan(values[row])
            else f"not a finite coordinate: {text!r} is {values[row]}"
        )
        raise IngestError(message, path=str(path), row=row + 1, column=name)
    return values


def _wkt(column: pd.Series, path: Path, name: str) -> np.ndarray:
    out = np.empty(len(column), dtype=object)
    for row, text in enumerate(column):
        try:
            out[row] = shapely.from_wkt(text) if text else None
        except shapely.errors.ShapelyError as exc:
            raise IngestError(
                f"not a WKT geometry ({exc})", path=str(path), row=row + 1, column=name
            ) from exc
    return out
