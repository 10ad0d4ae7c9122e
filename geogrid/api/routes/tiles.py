"""The layers as vector tiles: tile matrix set, tilesets, TileJSON and the tiles themselves.

``GET /collections/{id}/tiles/WebMercatorQuad/{z}/{x}/{y}`` answers a Mapbox Vector Tile
built by PostGIS, under the feature pages' rules (``layers:read``; a grid worker's grids
tile holds their chain and subtree only). A tile with no feature is ``204 No Content``
(OGC API – Tiles permits it for an empty tile; MapLibre draws nothing). Every tile has a
strong ``ETag`` (``If-None-Match`` gives 304) and ``Cache-Control: private, max-age=60``:
it may differ per caller, and an edit shows within a minute.
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Annotated, Any

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from geogrid.access import Caller
from geogrid.api import ogc, ogc_tiles
from geogrid.api.auth import require
from geogrid.api.deps import WorkspaceDep
from geogrid.api.error_docs import ERROR_CONTENT
from geogrid.workspace import Workspace
from geogrid.workspace.features import collection_extent, feature_layer
from geogrid.workspace.tiles import MAX_ZOOM, TILE_MATRIX_SET, read_tile

router = APIRouter(tags=["tiles"])

Reader = Annotated[Caller, require("layers:read")]
CollectionId = Annotated[
    str, Path(max_length=64, description="collection id, e.g. `grids`", examples=["grids"])
]
Zoom = Annotated[int, Path(ge=0, le=MAX_ZOOM, description="zoom level (tile matrix)")]
_LAST = 2**MAX_ZOOM - 1
Column = Annotated[
    int, Path(ge=0, le=_LAST, description="column from the west, 0 to 2^z - 1", examples=[3])
]
Row = Annotated[
    int, Path(ge=0, le=_LAST, description="row from the north, 0 to 2^z - 1", examples=[1])
]
CACHE_CONTROL = "private, max-age=60"
_TILES = f"/collections/{{collection_id}}/tiles/{TILE_MATRIX_SET}"


def _json(schema: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {ogc.JSON: {"schema": schema}}}}


@router.get(
    "/tileMatrixSets",
    response_class=JSONResponse,
    responses=_json(ogc_tiles.TMS_LIST_SCHEMA),
)
async def tile_matrix_sets(request: Request) -> JSONResponse:
    """List the tile matrix sets served (one: WebMercatorQuad)."""
    ogc.reject_unknown_params(request, ())
    return JSONResponse(ogc_tiles.tile_matrix_sets(ogc.base_url(request)))


@router.get(
    "/tileMatrixSets/" + TILE_MATRIX_SET,
    response_class=JSONResponse,
    responses=_json(ogc_tiles.TMS_SCHEMA),
)
async def web_mercator_quad(request: Request) -> JSONResponse:
    """Describe the WebMercatorQuad tile matrix set (EPSG:3857, zoom 0 to 22)."""
    ogc.reject_unknown_params(request, ())
    return JSONResponse(ogc_tiles.tile_matrix_set(ogc.base_url(request)))


@router.get("/collections/{collection_id}/tiles", responses=_json(ogc_tiles.TILESETS_SCHEMA))
def collection_tilesets(
    collection_id: CollectionId, request: Request, workspace: WorkspaceDep, _: Reader
) -> JSONResponse:
    """List a layer's vector tilesets (one: WebMercatorQuad)."""
    ogc.reject_unknown_params(request, ())
    layer = feature_layer(collection_id)
    extent = collection_extent(workspace, layer.name)
    return JSONResponse(ogc_tiles.tilesets(layer, ogc.base_url(request), extent))


@router.get(_TILES, responses=_json(ogc_tiles.TILESET_SCHEMA))
def collection_tileset(
    collection_id: CollectionId, request: Request, workspace: WorkspaceDep, _: Reader
) -> JSONResponse:
    """Describe a layer's WebMercatorQuad tileset: its layer, fields, zooms and extent."""
    ogc.reject_unknown_params(request, ())
    layer = feature_layer(collection_id)
    extent = collection_extent(workspace, layer.name)
    return JSONResponse(ogc_tiles.tileset(layer, ogc.base_url(request), extent))


@router.get(f"{_TILES}/tilejson.json", responses=_json(ogc_tiles.TILEJSON_SCHEMA))
def collection_tilejson(
    collection_id: CollectionId, request: Request, workspace: WorkspaceDep, _: Reader
) -> JSONResponse:
    """Return the TileJSON 3.0.0 of a layer's tiles (for MapLibre, Leaflet plugins, QGIS)."""
    ogc.reject_unknown_params(request, ())
    layer = feature_layer(collection_id)
    extent = collection_extent(workspace, layer.name)
    return JSONResponse(ogc_tiles.tilejson(layer, ogc.base_url(request), extent))


def _tile_builders(request: Request, workspace: Workspace) -> CapacityLimiter:
    """Return the process's limit on tiles read at once: the connection pool's size.

    Beyond it the pool opens overflow connections and closes them on return, and each
    new PostgreSQL session pays for its start and its PostGIS caches (the projection's
    set-up): twice the CPU of a tile (``benchmarks/tiles_vs_tipg.py``). Waiting here
    for a pooled connection is cheaper.
    """
    limiter: CapacityLimiter | None = getattr(request.app.state, "tile_builders", None)
    if limiter is None:
        limiter = request.app.state.tile_builders = CapacityLimiter(workspace.settings.pool_size)
    return limiter


_HEADERS = {
    "ETag": {"description": "strong: the tile's bytes", "schema": {"type": "string"}},
    "Cache-Control": {"description": CACHE_CONTROL, "schema": {"type": "string"}},
}


@router.get(
    _TILES + "/{z}/{x}/{y}",
    response_class=Response,
    responses={
        200: {
            "description": "the tile: one layer named after the collection",
            "content": {ogc_tiles.MVT: {"schema": {"type": "string", "format": "binary"}}},
            "headers": _HEADERS,
        },
        204: {"description": "no feature in this tile (empty tile)", "headers": _HEADERS},
        304: {"description": "`If-None-Match` names the current ETag", "headers": _HEADERS},
        404: {
            "description": "no such collection, or the tile is outside the tile matrix "
            "(x or y above 2^z - 1), as OGC API - Tiles answers",
            **ERROR_CONTENT,
        },
    },
)
async def tile(
    collection_id: CollectionId,
    z: Zoom,
    x: Column,
    y: Row,
    request: Request,
    workspace: WorkspaceDep,
    caller: Reader,
) -> Response:
    """Return one vector tile of a layer (``x`` and ``y`` above 2^z - 1: 404, no such tile)."""
    ogc.reject_unknown_params(request, ())
    read = partial(read_tile, workspace, collection_id, z, x, y, subtree=caller.subtree)
    data = await to_thread.run_sync(read, limiter=_tile_builders(request, workspace))
    tag = f'"{hashlib.blake2b(data, digest_size=16).hexdigest()}"'
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL, "Vary": "Authorization"}
    if ogc.matches_none(request, tag):
        return Response(status_code=304, headers=headers)
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=ogc_tiles.MVT, headers=headers)
