"""``/maps/vector``: a MapLibre GL page of the vector tiles, with MapLibre served from here.

The page is a shell with no data (public, like ``/docs``); its style
(``/maps/vector/style.json``) and the tiles need ``layers:read`` like the feature pages.
MapLibre GL JS comes from the installed PyPI package ``maplibre``
(:func:`geogrid.maps.vector.maplibre_dir`), served under :data:`MAPLIBRE_ASSETS`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from geogrid.access import Caller
from geogrid.api import ogc
from geogrid.api.auth import require
from geogrid.api.deps import WorkspaceDep
from geogrid.maps.vector import maplibre_dir, vector_page, vector_style
from geogrid.workspace.features import collection_extent
from geogrid.workspace.tiles import MAX_ZOOM

router = APIRouter(tags=["maps"])

MAPLIBRE_ASSETS = "/static/maplibre"
Reader = Annotated[Caller, require("layers:read")]
_MEDIA = {"maplibre-gl.js": "text/javascript", "maplibre-gl.css": "text/css"}


@router.get("/maps/vector", response_class=HTMLResponse)
async def vector_map(request: Request) -> HTMLResponse:
    """Return the MapLibre GL page of grids, roads and checkpoints (offline: no CDN, no
    glyphs). Send an API key in the fragment: ``/maps/vector#key=gg_...``."""
    ogc.reject_unknown_params(request, ())
    return HTMLResponse(vector_page(ogc.base_url(request), MAPLIBRE_ASSETS))


@router.get(
    "/maps/vector/style.json",
    responses={200: {"content": {ogc.JSON: {"schema": {"type": "object"}}}}},
)
async def vector_map_style(request: Request, workspace: WorkspaceDep, _: Reader) -> JSONResponse:
    """Return the page's MapLibre style (version 8): geogrid's own tile sources only."""
    ogc.reject_unknown_params(request, ())
    bounds = await run_in_threadpool(collection_extent, workspace, "grids")
    return JSONResponse(vector_style(ogc.base_url(request), bounds, max_zoom=MAX_ZOOM))


@router.get(
    MAPLIBRE_ASSETS + "/{name}",
    response_class=FileResponse,
    responses={
        200: {
            "content": {
                "text/javascript": {"schema": {"type": "string"}},
                "text/css": {"schema": {"type": "string"}},
            }
        }
    },
)
async def maplibre_asset(
    name: Annotated[Literal["maplibre-gl.js", "maplibre-gl.css"], Path()],
) -> FileResponse:
    """Return MapLibre GL JS or its CSS, from the installed package."""
    return FileResponse(
        maplibre_dir() / name,
        media_type=_MEDIA[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )
