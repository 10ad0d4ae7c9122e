"""``/coverage``: is every way into a grid guarded, what is unreached, where to add sites."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, BeforeValidator, Field

from geogrid.access import Caller
from geogrid.api.auth import require
from geogrid.api.deps import WorkspaceDep
from geogrid.api.geojson import feature_collection, records
from geogrid.api.schemas.common import json_number
from geogrid.spatial.roads.routable import Profile
from geogrid.workspace.coverage import analyse_grid, plan_grid
from geogrid.workspace.jurisdiction import grid_in_reach

router = APIRouter(prefix="/coverage", tags=["coverage"])
CoverageReader = Annotated[Caller, require("coverage")]

ENTRY_COLUMNS = (
    "road_code",
    "road_name",
    "road_class",
    "bridge",
    "direction",
    "way_in",
    "open_end",
    "guarded",
    "checkpoint_code",
    "checkpoint_distance_m",
)
Tolerance = Annotated[float, Query(gt=0, le=1000, description="guarding distance (m)")]
Reach = Annotated[float, Query(gt=0, le=20_000, description="reach distance (m)")]
ProfileQuery = Annotated[
    Profile, Query(description="network distances are walked on: foot (default) or car")
]


class CoverageGapsPublic(BaseModel):
    """A grid's coverage: headline figures, per-child table and GeoJSON layers."""

    summary: dict[str, Any]
    children: list[dict[str, Any]]
    entries: dict[str, Any] = Field(description="FeatureCollection of entry points")
    unreached: dict[str, Any] = Field(description="FeatureCollection of unreached land")
    cells: dict[str, Any] = Field(description="FeatureCollection of H3 address summaries")


class CoveragePlanIn(BaseModel):
    """Which grid to plan for, and how many new sites at most (None: as few as close all)."""

    grid: str = Field(min_length=1, max_length=64)
    # the bounds before the validator, or they leave the JSON schema as "ge"/"le"
    budget: Annotated[int, Field(ge=1, le=10_000), BeforeValidator(json_number)] | None = None
    tolerance_m: float = Field(default=50.0, gt=0, le=1000, strict=True)
    reach_m: float = Field(default=1000.0, gt=0, le=20_000, strict=True)
    profile: Profile = Field(default="foot", description="network distances are walked on")


class CoveragePlanPublic(BaseModel):
    """Proposed new checkpoint sites and coverage before and after."""

    summary: dict[str, Any]
    sites: dict[str, Any] = Field(description="FeatureCollection of proposed sites")
    entries: dict[str, Any] = Field(description="entries with the site that guards them")


@router.get("/gaps", response_model=CoverageGapsPublic)
def coverage_gaps(
    workspace: WorkspaceDep,
    caller: CoverageReader,
    grid: Annotated[str, Query(min_length=1, max_length=64, description="grid code or name")],
    tolerance_m: Tolerance = 50.0,
    reach_m: Reach = 1000.0,
    profile: ProfileQuery = "foot",
) -> CoverageGapsPublic:
    """Return every entry into the grid, whether it is guarded, and what is unreached."""
    grid = grid_in_reach(workspace, caller, grid)
    result = analyse_grid(
        workspace, grid, tolerance_m=tolerance_m, reach_m=reach_m, profile=profile
    )
    return CoverageGapsPublic(
        summary=result.summary(),
        children=records(result.children),
        entries=feature_collection(result.entries, ENTRY_COLUMNS),
        unreached=feature_collection(result.unreached, ("area_m2",)),
        cells=feature_collection(result.cells, ("cell", "addresses", "unreached")),
    )


@router.post("/plan", response_model=CoveragePlanPublic)
def coverage_plan(
    workspace: WorkspaceDep, caller: CoverageReader, body: CoveragePlanIn
) -> CoveragePlanPublic:
    """Propose the fewest new checkpoints that guard every way in, or the best ``budget``."""
    _, plan = plan_grid(
        workspace,
        grid_in_reach(workspace, caller, body.grid),
        budget=body.budget,
        tolerance_m=body.tolerance_m,
        reach_m=body.reach_m,
        profile=body.profile,
    )
    return CoveragePlanPublic(
        summary=plan.summary(),
        sites=feature_collection(
            plan.sites, ("site", "road_code", "road_name", "road_class", "entries_guarded")
        ),
        entries=feature_collection(
            plan.entries, (*ENTRY_COLUMNS, "target", "new_site", "guarded_after")
        ),
    )
