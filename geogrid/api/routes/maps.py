"""``/maps``: a grid's map sheet as HTML (offline, assets served here) or PDF.

Every map draws its streets from PostGIS (``basemap=offline``, the default); ``tianditu``
(with ``GEOGRID_TIANDITU_KEY``) and ``amap`` put the service's tiles under the layers
instead, for browsers (and a printing server) that reach the network.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from geogrid.access import Caller
from geogrid.api.auth import require
from geogrid.api.deps import WorkspaceDep
from geogrid.maps import Printer, map_to_html
from geogrid.workspace.coverage import analyse_grid, coverage_map
from geogrid.workspace.jurisdiction import grid_in_reach
from geogrid.workspace.sheets import grid_sheet
from geogrid.workspace.transport_map import plan_map

router = APIRouter(prefix="/maps", tags=["maps"])

ASSETS = "/static/vendor"
Paper = Annotated[str, Query(pattern="^(A4|A3)$", description="A4 or A3")]
Orientation = Annotated[Literal["portrait", "landscape"], Query()]
Basemap = Annotated[
    Literal["offline", "tianditu", "amap"],
    Query(description="offline: streets drawn from PostGIS; tianditu, amap: online tiles"),
]
# a grid worker sees the maps of their own grid subtree only (others: 404)
MapReader = Annotated[Caller, require("maps")]
CoverageMapReader = Annotated[Caller, require("maps", "coverage")]


@router.get("/grids/{code}.html", response_class=HTMLResponse)
def grid_sheet_html(
    code: str,
    workspace: WorkspaceDep,
    caller: MapReader,
    paper: Paper = "A4",
    orientation: Orientation = "portrait",
    basemap: Basemap = "offline",
) -> HTMLResponse:
    """Return the grid's sheet as a web page (its scripts are served by this API)."""
    code = grid_in_reach(workspace, caller, code)
    html = grid_sheet(
        workspace, code, paper=paper, orientation=orientation, assets=ASSETS, basemap=basemap
    )
    return HTMLResponse(html)


@router.get("/grids/{code}.pdf", response_class=Response)
async def grid_sheet_pdf(
    code: str,
    workspace: WorkspaceDep,
    caller: MapReader,
    paper: Paper = "A4",
    orientation: Orientation = "portrait",
    basemap: Basemap = "offline",
) -> Response:
    """Return the grid's sheet printed to PDF by headless Chromium."""
    code = await run_in_threadpool(grid_in_reach, workspace, caller, code)

    def render() -> bytes:
        html = grid_sheet(workspace, code, paper=paper, orientation=orientation, basemap=basemap)
        with Printer(offline=basemap == "offline") as printer:
            return printer.render(html, format="pdf", paper=paper, orientation=orientation)

    pdf = await run_in_threadpool(render)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{code}.pdf"'},
    )


@router.get("/coverage/{grid}.html", response_class=HTMLResponse)
def coverage_map_html(
    grid: str,
    workspace: WorkspaceDep,
    caller: CoverageMapReader,
    tolerance_m: Annotated[float, Query(gt=0, le=1000)] = 50.0,
    reach_m: Annotated[float, Query(gt=0, le=20_000)] = 1000.0,
    basemap: Basemap = "offline",
) -> HTMLResponse:
    """Return the map of a grid's coverage: entries guarded and not, unreached land."""
    grid = grid_in_reach(workspace, caller, grid)
    result = analyse_grid(workspace, grid, tolerance_m=tolerance_m, reach_m=reach_m)
    page = coverage_map(workspace, result, assets=ASSETS, basemap=basemap)
    return HTMLResponse(map_to_html(page))


@router.get(
    "/transport/{plan_id}.html",
    response_class=HTMLResponse,
    dependencies=[require("maps", "transport:read")],
)
def transport_map_html(plan_id: int, workspace: WorkspaceDep) -> HTMLResponse:
    """Return the map of a saved transport plan: a route per vehicle, and the sites."""
    return HTMLResponse(map_to_html(plan_map(workspace, plan_id, assets=ASSETS)))
