"""``/grids/validate``: do the children tile their parents? Gaps, overlaps, slivers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from geogrid.api.auth import require
from geogrid.api.deps import WorkspaceDep
from geogrid.api.geojson import feature_collection
from geogrid.spatial.gridcheck import (
    DEFAULT_SLIVER_M2,
    DEFAULT_SLIVER_WIDTH_M,
    DEFAULT_TOLERANCE_M2,
)
from geogrid.spatial.gridproblems import PROBLEM_COLUMNS
from geogrid.workspace.grids import grid_report

router = APIRouter(prefix="/grids", tags=["grids"])


class GridReportPublic(BaseModel):
    """The topology report: what was checked, counts by kind, and every problem."""

    summary: dict[str, Any] = Field(
        description="parent_code, grids_checked, parents_checked, problems, by_kind "
        "(count per kind) and the thresholds used"
    )
    problems: dict[str, Any] = Field(
        description="FeatureCollection: one feature per problem, its geometry where the "
        "problem is (WGS 84); properties kind, codes, parent_code, area_m2, length_m, "
        "width_m, detail, message, point_lon, point_lat"
    )


@router.get(
    "/validate",
    response_model=GridReportPublic,
    dependencies=[require("grids:validate")],
    responses={404: {"description": "No grid has the code given as parent"}},
)
def validate_grids(
    workspace: WorkspaceDep,
    parent: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description="check only this grid's children"),
    ] = None,
    tolerance_m2: Annotated[
        float, Query(ge=0, le=1e6, description="smaller gaps and overlaps are ignored (m²)")
    ] = DEFAULT_TOLERANCE_M2,
    sliver_m2: Annotated[
        float, Query(ge=0, le=1e7, description="smaller problem areas are slivers (m²)")
    ] = DEFAULT_SLIVER_M2,
    sliver_width_m: Annotated[
        float, Query(ge=0, le=1000, description="thinner problem areas are slivers (m)")
    ] = DEFAULT_SLIVER_WIDTH_M,
) -> GridReportPublic:
    """Report gaps and overlaps between sibling grids, children outside their parents,
    slivers, mismatching borders and invalid geometries, with where each one is."""
    report = grid_report(
        workspace,
        parent,
        tolerance_m2=tolerance_m2,
        sliver_m2=sliver_m2,
        sliver_width_m=sliver_width_m,
    )
    return GridReportPublic(
        summary=report.summary(),
        problems=feature_collection(report.to_geodataframe(), PROBLEM_COLUMNS),
    )
