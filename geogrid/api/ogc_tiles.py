"""OGC API – Tiles documents: the WebMercatorQuad tile matrix set, tilesets and TileJSON.

Tiles are addressed ``{z}/{x}/{y}`` (column before row, as TileJSON, MapLibre and tipg
address them); the tileset's templated link says so. OGC API – Tiles puts the row first
(``{tileMatrix}/{tileRow}/{tileCol}``), so geogrid does not claim its conformance classes.
"""

from __future__ import annotations

from typing import Any

from geogrid.api.ogc import CRS84, JSON, link
from geogrid.db.models import Base
from geogrid.workspace.features import FeatureLayer
from geogrid.workspace.tiles import MAX_ZOOM, TILE_MATRIX_SET

__all__ = [
    "MVT",
    "TILEJSON_SCHEMA",
    "TILESETS_SCHEMA",
    "TILESET_SCHEMA",
    "TMS_LIST_SCHEMA",
    "TMS_SCHEMA",
    "tile_matrix_set",
    "tile_matrix_sets",
    "tile_url",
    "tilejson",
    "tileset",
    "tilesets",
]

MVT = "application/vnd.mapbox-vector-tile"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
EPSG_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
_REL = "http://www.opengis.net/def/rel/ogc/1.0/"
_HALF_WORLD_M = 20037508.342789244
_CELL_Z0_M = 2 * _HALF_WORLD_M / 256
_GEOMETRY_TYPES = {"polygon": "polygons", "point": "points", "line": "lines"}

_LINKS = {"type": "array", "items": {"type": "object", "required": ["href", "rel"]}}
TMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "crs", "tileMatrices"],
    "properties": {
        "id": {"type": "string"},
        "uri": {"type": "string"},
        "crs": {"type": "string"},
        "tileMatrices": {"type": "array", "minItems": MAX_ZOOM + 1, "maxItems": MAX_ZOOM + 1},
    },
}
TMS_LIST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["tileMatrixSets"],
    "properties": {"tileMatrixSets": {"type": "array", "minItems": 1}},
}
TILESET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["dataType", "crs", "links"],
    "properties": {
        "title": {"type": "string"},
        "dataType": {"const": "vector"},
        "crs": {"type": "string"},
        "tileMatrixSetURI": {"type": "string"},
        "links": _LINKS,
        "layers": {"type": "array"},
    },
}
TILESETS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["tilesets", "links"],
    "properties": {"tilesets": {"type": "array", "items": TILESET_SCHEMA}, "links": _LINKS},
}
TILEJSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["tilejson", "tiles", "vector_layers"],
    "properties": {
        "tilejson": {"const": "3.0.0"},
        "tiles": {"type": "array", "items": {"type": "string"}},
        "minzoom": {"type": "integer", "minimum": 0, "maximum": MAX_ZOOM},
        "maxzoom": {"type": "integer", "minimum": 0, "maximum": MAX_ZOOM},
        "bounds": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
        "vector_layers": {"type": "array"},
    },
}


def tile_matrix_set(base: str) -> dict[str, Any]:
    """Return the OGC 2D Tile Matrix Set document of WebMercatorQuad (zoom 0..MAX_ZOOM)."""
    matrices = []
    for z in range(MAX_ZOOM + 1):
        cell = _CELL_Z0_M / 2**z
        matrices.append(
            {
                "id": str(z),
                "scaleDenominator": cell / 0.00028,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-_HALF_WORLD_M, _HALF_WORLD_M],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": 2**z,
                "matrixHeight": 2**z,
            }
        )
    return {
        "id": TILE_MATRIX_SET,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": EPSG_3857,
        "orderedAxes": ["E", "N"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
        "links": [link(f"{base}/tileMatrixSets/{TILE_MATRIX_SET}", "self", JSON)],
    }


def tile_matrix_sets(base: str) -> dict[str, Any]:
    """Return the list of tile matrix sets served (one: WebMercatorQuad)."""
    here = f"{base}/tileMatrixSets/{TILE_MATRIX_SET}"
    return {
        "tileMatrixSets": [
            {
                "id": TILE_MATRIX_SET,
                "title": "Google Maps Compatible for the World",
                "uri": TMS_URI,
                "links": [link(here, "self", JSON, TILE_MATRIX_SET)],
            }
        ],
        "links": [link(f"{base}/tileMatrixSets", "self", JSON)],
    }


def tile_url(base: str, layer: str) -> str:
    """Return the ``{z}/{x}/{y}`` URL template of a layer's tiles."""
    return f"{base}/collections/{layer}/tiles/{TILE_MATRIX_SET}/{{z}}/{{x}}/{{y}}"


def _fields(layer: FeatureLayer) -> dict[str, str]:
    """Return property -> TileJSON type (String, Number, Boolean) of a layer."""
    table = Base.metadata.tables[layer.name]
    out = {}
    for name in layer.properties:
        python = table.c[name].type.python_type
        out[name] = (
            "Boolean" if python is bool else "Number" if python in (int, float) else "String"
        )
    return out


def tileset(
    layer: FeatureLayer, base: str, extent: tuple[float, float, float, float] | None
) -> dict[str, Any]:
    """Return the tileset metadata document of a layer."""
    here = f"{base}/collections/{layer.name}/tiles/{TILE_MATRIX_SET}"
    template = f"{here}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}"
    doc: dict[str, Any] = {
        "title": f"{layer.title}: vector tiles",
        "dataType": "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": TMS_URI,
        "links": [
            link(here, "self", JSON, "this tileset"),
            link(f"{base}/collections/{layer.name}", "collection", JSON, layer.title),
            link(f"{base}/tileMatrixSets/{TILE_MATRIX_SET}", f"{_REL}tiling-scheme", JSON),
            link(f"{here}/tilejson.json", "describedby", JSON, "TileJSON 3.0.0"),
            {**link(template, "item", MVT, "a tile: zoom, column, row"), "templated": True},
        ],
        "layers": [
            {
                "id": layer.name,
                "title": layer.title,
                "dataType": "vector",
                "geometryType": _GEOMETRY_TYPES[layer.geometry],
                "minTileMatrix": "0",
                "maxTileMatrix": str(MAX_ZOOM),
                "propertiesSchema": {
                    "type": "object",
                    "properties": {
                        name: {"type": kind.lower() if kind != "Number" else "number"}
                        for name, kind in _fields(layer).items()
                    },
                },
            }
        ],
    }
    if extent is not None:
        west, south, east, north = extent
        doc["boundingBox"] = {"lowerLeft": [west, south], "upperRight": [east, north], "crs": CRS84}
    return doc


def tilesets(
    layer: FeatureLayer, base: str, extent: tuple[float, float, float, float] | None
) -> dict[str, Any]:
    """Return the list of a layer's tilesets (one: WebMercatorQuad)."""
    one = tileset(layer, base, extent)
    return {
        "links": [link(f"{base}/collections/{layer.name}/tiles", "self", JSON)],
        "tilesets": [one],
    }


def tilejson(
    layer: FeatureLayer, base: str, extent: tuple[float, float, float, float] | None
) -> dict[str, Any]:
    """Return the TileJSON 3.0.0 document of a layer's tiles."""
    doc: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": layer.name,
        "description": layer.description,
        "scheme": "xyz",
        "tiles": [tile_url(base, layer.name)],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "vector_layers": [
            {"id": layer.name, "fields": _fields(layer), "minzoom": 0, "maxzoom": MAX_ZOOM}
        ],
    }
    if extent is not None:
        west, south, east, north = extent
        doc["bounds"] = [west, south, east, north]
        doc["center"] = [(west + east) / 2, (south + north) / 2, 12]
    return doc
