"""``/maps``: a grid's map sheet as HTML (offline, assets served here) or PDF."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from geogrid.api.deps import WorkspaceDep
from geogrid.maps import Printer
from geogrid.workspace.sheets import grid_sheet

router = APIRouter(prefix="/maps", tags=["maps"])

ASSETS = "/static/vendor"
Paper = Annotated[str, Query(pattern="^(A4|A3)$", description="A4 or A3")]
Orientation = Annotated[str, Query(pattern="^(portrait|landscape)$")]


@router.get("/grids/{code}.html", response_class=HTMLResponse)
def grid_sheet_html(
    code: str, workspace: WorkspaceDep, paper: Paper = "A4", orientation: Orientation = "portrait"
) -> HTMLResponse:
    """Return the grid's sheet as a web page (its scripts are served by this API)."""
    html = grid_sheet(workspace, code, paper=paper, orientation=orientation, assets=ASSETS)
    return HTMLResponse(html)


@router.get("/grids/{code}.pdf", response_class=Response)
async def grid_sheet_pdf(
    code: str, workspace: WorkspaceDep, paper: Paper = "A4", orientation: Orientation = "portrait"
) -> Response:
    """Return the grid's sheet printed to PDF by headless Chromium."""

    def render() -> bytes:
        html = grid_sheet(workspace, code, paper=paper, orientation=orientation)
        with Printer() as printer:
            return printer.render(html, format="pdf", paper=paper, orientation=orientation)

    pdf = await run_in_threadpool(render)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{code}.pdf"'},
    )
