"""Check, repair and reproject a layer read from a file, or refuse it with a clear error.

The rules, in order:

1. Every required column is present; values convert to the column's type; values of
   coded columns are among the allowed choices; codes are unique within the file.
2. Every row has a geometry of the layer's family (a Polygon becomes a MultiPolygon),
   with finite coordinates (no NaN, no ±inf), no empty ring or part, and at most
   ``max_vertices`` vertices (the setting ``GEOGRID_MAX_VERTICES`` that bounds edits).
3. The source CRS is the ``crs`` the caller names, else the file's own; a file without one
   is taken as WGS 84 only if all its coordinates are valid longitudes/latitudes.
   GCJ-02 and BD-09 are converted exactly (see :mod:`geogrid.crs`).
4. Coordinates that look like (lat, lon) in swapped order are refused with a hint.
5. Invalid geometries are repaired with ``make_valid`` and reported, or refused when
   ``repair`` is False or the repair leaves nothing of the layer's family.

The first failing row stops the whole file: the error names the file, row and column
(for geometry problems, the file's own name for its geometry column).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geogrid import crs as gcrs
from geogrid.errors import AxisOrderError, IngestError, UnknownCRSError
from geogrid.ingest.readers import geometry_column
from geogrid.ingest.specs import LayerSpec

__all__ = ["REPORTED_CODES", "LoadReport", "prepare_layer"]

REPORTED_CODES = 100  # deleted codes a report keeps (the count is always whole)

FAMILY_TYPES = {
    "polygon": ("Polygon", "MultiPolygon"),
    "point": ("Point",),
    "line": ("LineString",),
}
FAMILY_TYPE_IDS = {
    "Point": shapely.GeometryType.POINT,
    "LineString": shapely.GeometryType.LINESTRING,
    "Polygon": shapely.GeometryType.POLYGON,
    "MultiPolygon": shapely.GeometryType.MULTIPOLYGON,
}
TRUE_WORDS = {"1", "true", "t", "yes", "y", "是"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "否", ""}


@dataclass
class LoadReport:
    """What happened to a layer between the file and the database.

    In a dry run the counts are those the load would have had; nothing was written.
    """

    path: str
    layer: str
    rows: int = 0
    source_crs: str = "EPSG:4326"
    repaired: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    deleted_codes: list[str] = field(default_factory=list)  # sorted, the first REPORTED_CODES
    dry_run: bool = False
    seconds: float = 0.0


def prepare_layer(
    frame: gpd.GeoDataFrame,
    spec: LayerSpec,
    *,
    path: str,
    crs: str | None = None,
    repair: bool = True,
    max_vertices: int | None = None,
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Return the layer's rows ready for the database, in EPSG:4326, and a report.

    ``frame`` comes from :func:`geogrid.ingest.readers.read_layer` (index = row number).
    ``max_vertices`` bounds each row's geometry (None: no bound).
    Raises :class:`IngestError` (or its CRS/axis-order relatives) naming the first bad row.
    """
    report = LoadReport(path=path, layer=spec.name, rows=len(frame))
    where = _Where(path, frame)
    frame = _with_code(frame, spec)
    table = _convert_columns(frame, spec, path)
    if spec.geometry is None:
        return gpd.GeoDataFrame(table), report
    geoms = frame.geometry.to_numpy()
    _check_geometry_types(geoms, spec, where)
    _check_coordinates(geoms, spec, where, max_vertices)
    geoms = _to_wgs84(geoms, frame.crs, crs, report, where)
    geoms = _check_validity(geoms, spec, where, repair, report)
    if spec.geometry == "polygon":
        single = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
        geoms = geoms.copy()
        geoms[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
    out = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, index=table.index), crs=4326)
    return out, report


def _with_code(frame: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    if "code" in frame.columns or not spec.code_optional:
        return frame
    frame = frame.copy()
    frame["code"] = [f"{spec.name}-{row}" for row in frame.index]
    return frame


def _convert_columns(frame: pd.DataFrame, spec: LayerSpec, path: str) -> pd.DataFrame:
    missing = [name for name in spec.required if name not in frame.columns]
    if missing:
        have = ", ".join(c for c in frame.columns if c != frame.geometry.name)
        raise IngestError(
            f"missing required column(s) {', '.join(missing)} for layer {spec.name!r}; "
            + (f"the file has: {have}" if have else "the file has no column (no property)"),
            path=path,
            column=missing[0],
        )
    out = pd.DataFrame(index=frame.index)
    for name, kind in spec.columns.items():
        if name in frame.columns:
            out[name] = _convert(frame[name], kind, path, name)
        else:
            default = spec.optional[name][1]
            out[name] = [list(default) if isinstance(default, list) else default] * len(frame)
    for name in spec.required:
        empty = out[name].isna()
        if empty.any():
            raise IngestError(
                "empty value in a required column",
                path=path,
                row=int(out.index[empty.to_numpy()][0]),
                column=name,
            )
    for name, allowed in spec.choices.items():
        values = out[name]
        bad = values.notna() & ~values.isin(allowed)
        if bad.any():
            row = int(values.index[bad.to_numpy()][0])
            raise IngestError(
                f"{values[row]!r} is not one of: {', '.join(allowed)}",
                path=path,
                row=row,
                column=name,
            )
    duplicated = out["code"].duplicated(keep=False)
    if duplicated.any():
        rows = [int(r) for r in out.index[duplicated.to_numpy()][:2]]
        raise IngestError(
            f"code {out.at[rows[0], 'code']!r} appears twice (rows {rows[0]} and {rows[1]})",
            path=path,
            row=rows[1],
            column="code",
        )
    return out


def _convert(values: pd.Series, kind: str, path: str, name: str) -> pd.Series:
    converted: list[Any] = []
    for row, value in values.items():
        try:
            converted.append(_convert_one(value, kind))
        except (TypeError, ValueError) as exc:
            raise IngestError(
                f"cannot read {value!r} as {kind}", path=path, row=int(row), column=name
            ) from exc
    return pd.Series(converted, index=values.index, dtype=object)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _convert_one(value: Any, kind: str) -> Any:
    if _is_missing(value) or value is pd.NaT:
        return [] if kind == "list" else None
    if kind == "str":
        text = str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        return text
    if kind == "int":
        number = float(value)
        if not number.is_integer():
            raise ValueError("not a whole number")
        return int(number)
    if kind == "float":
        return float(value)
    if kind == "bool":
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError("not a yes/no value")
    if kind == "list":
        if isinstance(value, (list, tuple, np.ndarray)):
            return [str(v).strip() for v in value if str(v).strip()]
        text = str(value).strip().strip("{}[]")
        return [
            part.strip().strip("'\"") for part in text.replace(";", ",").split(",") if part.strip()
        ]
    if kind == "datetime":
        stamp = value if isinstance(value, datetime) else pd.Timestamp(str(value))
        stamp = pd.Timestamp(stamp)
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("Asia/Shanghai")
        return stamp.to_pydatetime()
    raise ValueError(f"unknown column type {kind}")


class _Where:
    """Where a layer's geometries come from: file, row numbers, geometry column."""

    def __init__(self, path: str, frame: gpd.GeoDataFrame) -> None:
        self.path = path
        self.rows = frame.index
        self._frame = frame

    @cached_property
    def column(self) -> str:
        """The file's name for the geometry column (looked up when a message needs it)."""
        return geometry_column(self._frame)

    def error(self, message: str, i: int, **details: Any) -> IngestError:
        """Return an error about the geometry at position ``i``."""
        return IngestError(
            message, path=self.path, row=int(self.rows[i]), column=self.column, details=details
        )

    def place(self, i: int) -> str:
        """Return "file, row n, column 'c'" for messages built by hand."""
        return f"{self.path}, row {int(self.rows[i])}, column {self.column!r}"


def _check_geometry_types(geoms: np.ndarray, spec: LayerSpec, where: _Where) -> None:
    missing = shapely.is_missing(geoms)
    if missing.any():
        raise where.error("row has no geometry", int(np.argmax(missing)))
    allowed = FAMILY_TYPES[spec.geometry or "point"]
    bad = ~np.isin(shapely.get_type_id(geoms), [FAMILY_TYPE_IDS[name] for name in allowed])
    if bad.any():
        i = int(np.argmax(bad))
        raise where.error(
            f"geometry is a {geoms[i].geom_type}; layer {spec.name!r} takes {' or '.join(allowed)}",
            i,
        )
    empty = shapely.is_empty(geoms)
    if empty.any():
        raise where.error("the geometry is empty (no coordinates)", int(np.argmax(empty)))
    if shapely.has_z(geoms).any():
        geoms[:] = shapely.force_2d(geoms)


def _number(value: float) -> str:
    return "NaN" if np.isnan(value) else repr(float(value))


def _check_coordinates(
    geoms: np.ndarray, spec: LayerSpec, where: _Where, max_vertices: int | None
) -> None:
    """Refuse too many vertices, coordinates that are not finite, and empty rings or parts."""
    counts = shapely.get_num_coordinates(geoms)
    if max_vertices is not None and (counts > max_vertices).any():
        i = int(np.argmax(counts > max_vertices))
        raise where.error(
            f"the geometry has {int(counts[i]):,} vertices; the limit is {max_vertices:,} "
            "(GEOGRID_MAX_VERTICES, as for edits); simplify it or raise the limit",
            i,
            vertices=int(counts[i]),
            limit=max_vertices,
        )
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        k = int(np.argmax(bad))
        i = int(owner[k])
        vertex = k - int(np.searchsorted(owner, i)) + 1
        x, y = coords[k]
        raise where.error(
            f"vertex {vertex} is ({_number(x)}, {_number(y)}): coordinates must be finite "
            "numbers (NaN and ±inf cannot be stored)",
            i,
        )
    if spec.geometry != "polygon":
        return  # points and lines are single parts, and empty ones were refused already
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    empty = shapely.is_empty(parts)
    if empty.any():
        part = int(np.argmax(empty))
        i = int(part_owner[part])
        number = part - int(np.searchsorted(part_owner, i)) + 1
        raise where.error(f"polygon {number} of the geometry is empty (no points)", i)
    rings, ring_owner = shapely.get_rings(parts, return_index=True)
    empty = shapely.is_empty(rings)
    if empty.any():
        k = int(np.argmax(empty))
        part = int(ring_owner[k])
        i = int(part_owner[part])
        ring = k - int(np.searchsorted(ring_owner, part)) + 1
        number = part - int(np.searchsorted(part_owner, i)) + 1
        raise where.error(f"ring {ring} of polygon {number} is empty (no points)", i)


def _to_wgs84(
    geoms: np.ndarray,
    file_crs: CRS | None,
    asked: str | None,
    report: LoadReport,
    where: _Where,
) -> np.ndarray:
    path = where.path
    if asked is not None:
        source = gcrs.parse_crs(asked)
        if file_crs is not None and source.kind == "epsg" and source.epsg is not None:
            file_epsg = file_crs.to_epsg()
            if file_epsg is not None and file_epsg != source.epsg:
                report.notes.append(f"--crs {asked} overrides the file's own CRS EPSG:{file_epsg}")
    elif file_crs is not None:
        epsg = file_crs.to_epsg()
        if epsg is None:
            raise UnknownCRSError(
                f"{path}: the file's CRS has no EPSG code ({file_crs.name}); name one with --crs",
                details={"file": path},
            )
        source = gcrs.parse_crs(f"EPSG:{epsg}")
    else:
        source = gcrs.parse_crs("wgs84")
        report.notes.append("the file names no CRS; its coordinates are taken as WGS 84")
    report.source_crs = source.name
    if _is_geographic(source):
        _check_lonlat(geoms, where)
    out = geoms if source.kind == "wgs84" else gcrs.geometries_to_wgs84(geoms, source)
    if out is not geoms:
        coords, owner = shapely.get_coordinates(out, return_index=True)
        lost = ~np.isfinite(coords).all(axis=1)
        if lost.any():
            raise where.error(
                f"the coordinates cannot be converted from {source.name} to WGS 84 (they lie "
                "far outside the area of that CRS); is it the file's CRS?",
                int(owner[int(np.argmax(lost))]),
            )
    _check_lonlat(out, where)
    return out


def _is_geographic(source: gcrs.CoordSystem) -> bool:
    if source.kind != "epsg" or source.epsg is None:
        return True
    return bool(CRS.from_epsg(source.epsg).is_geographic)


def _check_lonlat(geoms: np.ndarray, where: _Where) -> None:
    path, rows = where.path, where.rows
    bounds = shapely.bounds(geoms)
    inside = (
        (bounds[:, 0] >= -180)
        & (bounds[:, 2] <= 180)
        & (bounds[:, 1] >= -90)
        & (bounds[:, 3] <= 90)
    )
    centre_x = (bounds[:, 0] + bounds[:, 2]) / 2
    centre_y = (bounds[:, 1] + bounds[:, 3]) / 2
    swapped = gcrs.looks_swapped(centre_x, centre_y)
    if swapped.any():
        i = int(np.argmax(swapped))
        raise AxisOrderError(
            f"{where.place(i)}: the coordinates ({centre_x[i]:.5f}, "
            f"{centre_y[i]:.5f}) look like (latitude, longitude); geogrid takes longitude "
            "first — swap the columns, or fix the axis order of the file",
            details={"file": path, "row": int(rows[i]), "column": where.column},
        )
    if not inside.all():
        i = int(np.argmax(~inside))
        raise UnknownCRSError(
            f"{where.place(i)}: coordinates ({centre_x[i]:.1f}, {centre_y[i]:.1f}) "
            "are not longitude/latitude; the file is probably in a projected CRS — name it "
            "with --crs (e.g. --crs EPSG:4549)",
            details={"file": path, "row": int(rows[i]), "column": where.column},
        )


def _check_validity(
    geoms: np.ndarray,
    spec: LayerSpec,
    where: _Where,
    repair: bool,
    report: LoadReport,
) -> np.ndarray:
    valid = shapely.is_valid(geoms)
    if valid.all():
        return geoms
    geoms = geoms.copy()
    for i in np.flatnonzero(~valid):
        reason = shapely.is_valid_reason(geoms[i])
        if not repair:
            raise where.error(f"invalid geometry: {reason}", int(i))
        fixed = _keep_family(shapely.make_valid(geoms[i]), spec)
        if fixed is None:
            raise where.error(
                f"invalid geometry ({reason}) that cannot be repaired into a {spec.geometry}",
                int(i),
            )
        report.repaired.append({"row": int(where.rows[i]), "reason": reason})
        geoms[i] = fixed
    return geoms


def _keep_family(geom: shapely.Geometry, spec: LayerSpec) -> shapely.Geometry | None:
    """Return the parts of a repaired geometry that belong to the layer's family."""
    wanted = FAMILY_TYPES[spec.geometry or "point"]
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in wanted and not p.is_empty]
    if not parts:
        return None
    if spec.geometry == "polygon":
        polygons = [q for p in parts for q in shapely.get_parts(p)]
        return shapely.MultiPolygon(polygons)
    if len(parts) == 1:
        return parts[0]
    return None
