"""The public layers as collections of features: catalogue, pages, single features, extents.

The catalogue (:data:`FEATURE_LAYERS`) says which columns of each table are public
properties and which simple filters a layer answers. Personal data is never in it: grid
workers' names and phones live in ``grid_workers``, which is not a public layer.

Coordinates go in and out in any system :func:`geogrid.crs.parse_crs` accepts, always
x (longitude, easting) first; stored geometry is WGS 84.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyproj
import shapely

from geogrid import crs as gcrs
from geogrid.db.models import CHECKPOINT_KINDS, CHECKPOINT_STATUSES, GRID_LEVELS, ROAD_CLASSES
from geogrid.db.queries import features as q
from geogrid.errors import InvalidRequestError, NotFoundError
from geogrid.workspace._feature_index import FeatureIndex

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = [
    "FEATURE_LAYERS",
    "FeatureLayer",
    "FeaturePage",
    "GeoJSONPage",
    "collection_extent",
    "feature_layer",
    "feature_page",
    "layer_index",
    "read_feature_item",
    "read_feature_page",
    "read_geojson_page",
    "ready_layer_index",
    "search_area",
]

GeometryKind = Literal["polygon", "point", "line"]


@dataclass(frozen=True)
class FeatureLayer:
    """One public layer: its table, public properties and filters.

    Parameters
    ----------
    name
        The collection id, also the table.
    title, description
        For people reading ``/collections``.
    geometry
        ``polygon`` (stored as MultiPolygon), ``point`` or ``line``.
    properties
        Public columns, ``code`` first (the feature id).
    filters
        Query parameter -> column, for equality filters.
    choices
        Allowed values of some filters (a value outside them is refused).
    editable
        Whether features may be created, replaced, updated and deleted through the API.
    """

    name: str
    title: str
    description: str
    geometry: GeometryKind
    properties: tuple[str, ...]
    filters: dict[str, str] = field(default_factory=dict)
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    editable: bool = False


FEATURE_LAYERS: dict[str, FeatureLayer] = {
    layer.name: layer
    for layer in (
        FeatureLayer(
            "grids",
            "Grids 网格",
            "Governance grids: county › town › village › micro-grid, and industry grids.",
            "polygon",
            ("code", "name", "level", "parent_code", "population", "households"),
            filters={"level": "level", "parent": "parent_code"},
            choices={"level": GRID_LEVELS},
            editable=True,
        ),
        FeatureLayer(
            "checkpoints",
            "Checkpoints 卡口",
            "Staffed points on roads where people and vehicles are checked.",
            "point",
            ("code", "name", "kind", "status", "staff"),
            filters={"kind": "kind", "status": "status"},
            choices={"kind": CHECKPOINT_KINDS, "status": CHECKPOINT_STATUSES},
            editable=True,
        ),
        FeatureLayer(
            "isolation_sites",
            "Isolation sites 集中隔离点",
            "Centralised isolation sites (mostly hotels) with their capacity.",
            "point",
            ("code", "name", "kind", "capacity", "occupied", "risk_classes", "address"),
            filters={"kind": "kind"},
            editable=True,
        ),
        FeatureLayer(
            "addresses",
            "Standard addresses 标准地址",
            "The standard-address gazetteer (门牌) with its parsed components.",
            "point",
            (
                "code",
                "full_text",
                "county",
                "town",
                "village",
                "road",
                "number",
                "building",
                "unit",
                "room",
            ),
            filters={"village": "village", "town": "town", "road": "road"},
        ),
        FeatureLayer(
            "roads",
            "Roads 道路",
            "Road edges between intersections, with class, speed, direction and who may use "
            "them (car, foot).",
            "line",
            (
                "code",
                "name",
                "road_class",
                "speed_kmh",
                "oneway",
                "bridge",
                "car",
                "foot",
                "length_m",
            ),
            filters={"road_class": "road_class", "name": "name"},
            choices={"road_class": ROAD_CLASSES},
        ),
    )
}


@dataclass(frozen=True)
class FeaturePage:
    """Features of one layer, geometry already in the asked coordinate system."""

    layer: FeatureLayer
    crs: gcrs.CoordSystem
    codes: list[str]
    properties: list[dict[str, Any]]
    geometries: np.ndarray  # shapely geometries in ``crs``
    versions: list[str]  # single features: md5 of the stored row (changes with any value)
    number_matched: int
    limit: int = 0
    offset: int = 0

    @property
    def number_returned(self) -> int:
        """How many features the page holds."""
        return len(self.codes)


@dataclass(frozen=True)
class GeoJSONPage:
    """A page of features already written as GeoJSON by PostgreSQL (WGS 84).

    ``features`` holds the Feature objects joined by commas, in code order (UTF-8 bytes
    when the page comes from the layer's in-memory copy).
    """

    layer: FeatureLayer
    features: str | bytes
    number_matched: int
    number_returned: int
    limit: int
    offset: int
    crs: gcrs.CoordSystem = field(default_factory=lambda: gcrs.parse_crs("wgs84"))


def feature_layer(name: str) -> FeatureLayer:
    """Return the public layer ``name`` or raise :class:`NotFoundError`."""
    layer = FEATURE_LAYERS.get(name)
    if layer is None:
        raise NotFoundError(
            f"there is no collection {name[:64]!r}; collections: {', '.join(FEATURE_LAYERS)}",
            details={"collection": name[:64], "collections": list(FEATURE_LAYERS)},
        )
    return layer


def search_area(bbox: Sequence[float], crs: gcrs.CRSLike = None) -> shapely.Geometry:
    """Return a bounding box given in ``crs`` as a WGS 84 geometry to intersect with.

    A box in GCJ-02, BD-09 or a projected system is not a box in WGS 84: its edges are
    densified and converted, so the search covers exactly the asked area. A box of zero
    width or height is a line, or a point.

    Raises
    ------
    InvalidRequestError
        If the box is not four finite numbers with min <= max, or leaves the longitude
        and latitude ranges of a geographic system.
    """
    system = gcrs.parse_crs(crs)
    values = [float(v) for v in bbox]
    shown = [v if math.isfinite(v) else str(v) for v in values]  # JSON has no NaN
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidRequestError(
            "bbox must be four finite numbers: min x, min y, max x, max y",
            details={"bbox": shown},
        )
    x0, y0, x1, y1 = values
    if x0 > x1 or y0 > y1:
        raise InvalidRequestError(
            f"bbox {values} has its minimum above its maximum; give min x, min y, max x, max y",
            details={"bbox": shown},
        )
    if _is_geographic(system) and not (x0 >= -180 and x1 <= 180 and y0 >= -90 and y1 <= 90):
        raise InvalidRequestError(
            f"bbox {values} leaves longitude -180..180 or latitude -90..90 (give longitude first)",
            details={"bbox": shown},
        )
    if x0 < x1 and y0 < y1:
        box = shapely.box(x0, y0, x1, y1)
    else:  # a line or a point
        box = shapely.envelope(shapely.MultiPoint([(x0, y0), (x1, y1)]))
    if system.kind == "wgs84":
        return box
    step = max(x1 - x0, y1 - y0) / 64
    dense = shapely.segmentize(box, step) if step > 0 else box
    area = gcrs.geometries_to_wgs84(dense, system)
    if not np.all(np.isfinite(shapely.get_coordinates(area))):
        raise InvalidRequestError(
            f"bbox {values} cannot be converted from {system} to WGS 84",
            details={"bbox": shown, "crs": str(system)},
        )
    return shapely.make_valid(area)


def _is_geographic(system: gcrs.CoordSystem) -> bool:
    if system.kind != "epsg" or system.epsg is None:
        return True
    return bool(pyproj.CRS.from_epsg(system.epsg).is_geographic)


def _checked_filters(layer: FeatureLayer, filters: Mapping[str, str] | None) -> dict[str, str]:
    by_column: dict[str, str] = {}
    for param, value in (filters or {}).items():
        if param not in layer.filters:
            raise InvalidRequestError(
                f"{layer.name} cannot be filtered by {param!r}; "
                f"filters: {', '.join(layer.filters) or 'none'}",
                details={"parameter": param, "filters": list(layer.filters)},
            )
        allowed = layer.choices.get(param)
        if allowed is not None and value not in allowed:
            raise InvalidRequestError(
                f"{param}={value[:64]!r} is not one of: {', '.join(allowed)}",
                details={"parameter": param, "allowed": list(allowed)},
            )
        by_column[layer.filters[param]] = value
    return by_column


def feature_page(
    layer: FeatureLayer, rows: q.FeatureRows, system: gcrs.CoordSystem, matched: int
) -> FeaturePage:
    """Return rows read from the layer as a page, geometry converted to ``system``."""
    geoms = shapely.from_wkb(np.array(rows.wkb, dtype=object)) if rows.wkb else np.array([])
    if len(geoms) and system.kind != "wgs84":
        geoms = gcrs.geometries_from_wgs84(geoms, system)
        if not np.all(np.isfinite(shapely.get_coordinates(geoms))):
            raise InvalidRequestError(
                f"some of these features lie outside the area where {system} is defined",
                details={"crs": str(system)},
            )
    properties = [dict(zip(rows.columns, values, strict=True)) for values in rows.values]
    return FeaturePage(
        layer=layer,
        crs=system,
        codes=[p["code"] for p in properties],
        properties=properties,
        geometries=geoms,
        versions=rows.versions,
        number_matched=matched,
    )


def read_feature_page(
    workspace: Workspace,
    name: str,
    *,
    bbox: Sequence[float] | None = None,
    bbox_crs: gcrs.CRSLike = None,
    crs: gcrs.CRSLike = None,
    filters: Mapping[str, str] | None = None,
    limit: int | None = None,
    offset: int = 0,
    subtree: str | None = None,
) -> FeaturePage:
    """Return one page of a public layer, ordered by code.

    Parameters
    ----------
    workspace
        Where the layers are.
    name
        The collection id (a key of :data:`FEATURE_LAYERS`).
    bbox, bbox_crs
        Only features intersecting this box, given in ``bbox_crs`` (default WGS 84).
    crs
        The coordinate system of the returned geometries (default WGS 84).
    filters
        Query parameter -> value, from the layer's ``filters``.
    limit, offset
        The page; ``limit`` defaults to ``features_default_limit`` and is capped at
        ``features_max_limit``.
    subtree
        A grid worker's jurisdiction: grids outside its chain and subtree are not seen.
    """
    layer = feature_layer(name)
    system = gcrs.parse_crs(crs)
    area = search_area(bbox, bbox_crs) if bbox is not None else None
    by_column = _checked_filters(layer, filters)
    settings = workspace.settings
    size = min(limit or settings.features_default_limit, settings.features_max_limit)
    if offset < 0:
        raise InvalidRequestError("offset must be 0 or more", details={"offset": offset})

    with workspace.engine.connect() as conn:
        matched = q.count_features(conn, layer.name, area=area, filters=by_column, subtree=subtree)
        rows = q.read_features(
            conn,
            layer.name,
            layer.properties,
            area=area,
            filters=by_column,
            subtree=subtree,
            limit=size,
            offset=offset,
        )
    return replace(feature_page(layer, rows, system, matched), limit=size, offset=offset)


def read_geojson_page(
    workspace: Workspace,
    name: str,
    *,
    bbox: Sequence[float] | None = None,
    bbox_crs: gcrs.CRSLike = None,
    filters: Mapping[str, str] | None = None,
    limit: int | None = None,
    offset: int = 0,
    subtree: str | None = None,
    in_memory: bool | None = None,
) -> GeoJSONPage:
    """Return the page :func:`read_feature_page` returns in WGS 84, written by PostgreSQL.

    The features, filters, jurisdiction and paging are the same; the rows never become
    Python objects: one statement counts, pages and writes them (the fast path of
    ``/collections/{id}/items`` when the output is WGS 84).

    With ``in_memory`` (default: the setting ``features_in_memory``) a page without
    property filters is answered from the layer's copy in this process
    (:func:`layer_index`): the same features, order, counts and texts, as of the data
    version last checked (at most ``cache_check_interval_s`` old, as the tiles). While
    the copy is missing or older than the layer, PostgreSQL answers and the copy is
    built in the background: no page waits for it.
    """
    layer = feature_layer(name)
    area = search_area(bbox, bbox_crs) if bbox is not None else None
    by_column = _checked_filters(layer, filters)
    settings = workspace.settings
    size = min(limit or settings.features_default_limit, settings.features_max_limit)
    if offset < 0:
        raise InvalidRequestError("offset must be 0 or more", details={"offset": offset})
    use_memory = settings.features_in_memory if in_memory is None else in_memory
    index = ready_layer_index(workspace, layer.name) if use_memory and not by_column else None
    if index is not None:
        matched, returned, text = index.page(area, subtree=subtree, limit=size, offset=offset)
        return GeoJSONPage(layer, text, matched, returned, size, offset)
    with workspace.engine.connect() as conn:
        matched, returned, features = q.read_features_geojson(
            conn,
            layer.name,
            layer.properties,
            area=area,
            filters=by_column,
            subtree=subtree,
            limit=size,
            offset=offset,
        )
    return GeoJSONPage(layer, features, matched, returned, size, offset)


def layer_index(workspace: Workspace, name: str) -> FeatureIndex:
    """Return every feature of a public layer in memory (:class:`FeatureIndex`), built
    once per process and data version of the layer."""
    return workspace.cached(*_layer_index_parts(workspace, name))


def ready_layer_index(workspace: Workspace, name: str) -> FeatureIndex | None:
    """Return :func:`layer_index` if it is current; else None, and build it in a
    background thread (nothing waits for it)."""
    return workspace.cached_if_current(*_layer_index_parts(workspace, name))


def _layer_index_parts(
    workspace: Workspace, name: str
) -> tuple[str, tuple[str, ...], Callable[[], FeatureIndex]]:
    """Return the cache name, layers and builder of a layer's in-memory copy."""
    layer = feature_layer(name)

    def build() -> FeatureIndex:
        with workspace.engine.connect() as conn:
            codes, wkb, texts = q.read_layer_geojson(conn, layer.name, layer.properties)
        return FeatureIndex(codes, wkb, texts, jurisdiction=layer.name == "grids")

    return f"feature_index:{layer.name}", (layer.name,), build


def read_feature_item(
    workspace: Workspace,
    name: str,
    code: str,
    *,
    crs: gcrs.CRSLike = None,
    subtree: str | None = None,
) -> FeaturePage:
    """Return the one-feature page of ``code`` in layer ``name``.

    Raises
    ------
    NotFoundError
        If the layer has no feature ``code`` (or the caller's jurisdiction does not reach it).
    """
    layer = feature_layer(name)
    system = gcrs.parse_crs(crs)
    with workspace.engine.connect() as conn:
        rows = q.read_feature(conn, layer.name, layer.properties, code, subtree=subtree)
    if not rows.values:
        raise NotFoundError(
            f"{layer.name} has no feature {code[:64]!r}",
            details={"collection": layer.name, "feature": code[:64]},
        )
    return feature_page(layer, rows, system, 1)


def collection_extent(workspace: Workspace, name: str) -> tuple[float, float, float, float] | None:
    """Return the WGS 84 bounding box of a layer (None when empty), cached per data version."""
    layer = feature_layer(name)
    return workspace.cached(
        f"extent:{layer.name}",
        (layer.name,),
        lambda: _extent(workspace, layer.name),
    )


def _extent(workspace: Workspace, name: str) -> tuple[float, float, float, float] | None:
    with workspace.engine.connect() as conn:
        return q.layer_extent(conn, name)
