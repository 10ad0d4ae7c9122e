"""``/transport/plans``: assign waiting households to isolation sites and route the fleet."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from geogrid.api.auth import require
from geogrid.api.deps import WorkspaceDep
from geogrid.api.geojson import feature_collection
from geogrid.api.schemas.common import DateTimeIn, IntIn
from geogrid.errors import InvalidRequestError
from geogrid.spatial.transport import TransportSettings
from geogrid.workspace import Workspace
from geogrid.workspace.transport import (
    LOCAL,
    MAX_PLAN_REQUESTS,
    MAX_PLAN_VEHICLES,
    load_plan,
    plan_transfers,
    replan_transfers,
    stored_requests,
    stored_vehicles,
)

router = APIRouter(prefix="/transport", tags=["transport"])


class RequestIn(BaseModel):
    """A household to move (WGS 84). Personal data is not needed to plan."""

    code: str = Field(min_length=1, max_length=64)
    lon: float = Field(ge=-180, le=180, strict=True)
    lat: float = Field(ge=-90, le=90, strict=True)
    group_size: IntIn = Field(ge=1, le=50)
    risk_class: Literal["close_contact", "secondary_contact", "returnee"]
    ready_at: DateTimeIn | None = None


class PlanOptions(BaseModel):
    """Service times and the solver's time budget."""

    disinfection_min: float = Field(default=15, ge=0, le=240, strict=True)
    pickup_min: float = Field(default=2, ge=0, le=60, strict=True)
    drop_min: float = Field(default=2, ge=0, le=60, strict=True)
    time_budget_s: float = Field(default=10, gt=0, le=300, strict=True)
    solver: Literal["vroom", "ortools"] = "vroom"


class PlanIn(BaseModel):
    """What to plan: inline requests, or the stored waiting ones (optionally some codes)."""

    requests: list[RequestIn] | None = Field(default=None, max_length=MAX_PLAN_REQUESTS)
    request_codes: list[str] | None = Field(default=None, max_length=MAX_PLAN_REQUESTS)
    vehicle_codes: list[str] | None = Field(default=None, max_length=MAX_PLAN_VEHICLES)
    options: PlanOptions = PlanOptions()


class ReplanIn(BaseModel):
    """New households for a plan under way; by default the stored waiting ones it lacks."""

    now: DateTimeIn | None = Field(
        default=None, description="Moment of re-planning (default: now); naive is Asia/Shanghai."
    )
    requests: list[RequestIn] | None = Field(default=None, max_length=MAX_PLAN_REQUESTS)
    request_codes: list[str] | None = Field(default=None, max_length=MAX_PLAN_REQUESTS)
    time_budget_s: float | None = Field(default=None, gt=0, le=300, strict=True)


class PlanPublic(BaseModel):
    """A saved plan: summary, vehicle routes (GeoJSON) and schedules (codes, no names)."""

    plan_id: int
    previous_plan_id: int | None = None
    summary: dict[str, Any]
    assignment: dict[str, str]
    unserved: list[dict[str, str]]
    routes: dict[str, Any]
    schedules: dict[str, list[dict[str, Any]]]


@router.post(
    "/plans",
    response_model=PlanPublic,
    status_code=201,
    dependencies=[require("transport:plan")],
)
async def create_plan(workspace: WorkspaceDep, body: PlanIn | None = None) -> PlanPublic:
    """Plan the transfers; an empty body plans every waiting request with the whole fleet.

    A plan holds at most 1,000 households and names at most 200 vehicles: more is a 422
    (``details`` gives the count and the limit) before anything is measured or solved.
    """
    body = body or PlanIn()
    settings = TransportSettings(
        pickup_s=round(body.options.pickup_min * 60),
        drop_s=round(body.options.drop_min * 60),
        disinfection_s=round(body.options.disinfection_min * 60),
        time_budget_s=body.options.time_budget_s,
        solver=body.options.solver,
    )

    def solve() -> int:
        requests, vehicles = _chosen(workspace, body)
        outcome = plan_transfers(
            workspace,
            requests=requests,
            vehicles=vehicles,
            settings=settings,
            max_requests=MAX_PLAN_REQUESTS,
        )
        assert outcome.plan_id is not None
        return outcome.plan_id

    plan_id = await run_in_threadpool(solve)
    return get_plan(plan_id, workspace)


@router.post(
    "/plans/{plan_id}/replan",
    response_model=PlanPublic,
    status_code=201,
    dependencies=[require("transport:plan")],
)
async def replan_plan(
    plan_id: int, workspace: WorkspaceDep, body: ReplanIn | None = None
) -> PlanPublic:
    """Plan a saved plan again, keeping trips under way; saved as a new plan linked to it.

    A trip is under way once its vehicle has left for the pickup. Every other household of
    the plan and the new ones (inline, by code, or by default the stored waiting requests
    the plan does not know) are assigned and routed again with the plan's fleet and sites.
    The new plan holds at most 1,000 households, those of the plan and the new ones: more
    is a 422 (``details`` gives the count and the limit) before anything is solved.
    """
    body = body or ReplanIn()

    def solve() -> int:
        outcome = replan_transfers(
            workspace,
            plan_id,
            now=body.now or datetime.now(LOCAL),
            requests=_requests(workspace, body.requests, body.request_codes),
            time_budget_s=body.time_budget_s,
            max_requests=MAX_PLAN_REQUESTS,
        )
        assert outcome.plan_id is not None
        return outcome.plan_id

    new_id = await run_in_threadpool(solve)
    return get_plan(new_id, workspace)


@router.get("/plans/{plan_id}", response_model=PlanPublic, dependencies=[require("transport:read")])
def get_plan(plan_id: int, workspace: WorkspaceDep) -> PlanPublic:
    """Return a saved plan."""
    record, routes = load_plan(workspace, plan_id)
    return PlanPublic(
        plan_id=record["id"],
        previous_plan_id=record.get("previous_plan_id"),
        summary=record["summary"],
        assignment=record["assignment"],
        unserved=record["unserved"],
        routes=feature_collection(routes, ("vehicle_code", "km")),
        schedules={row.vehicle_code: _public(row.stops) for row in routes.itertuples()},
    )


def _chosen(
    workspace: Workspace, body: PlanIn
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    requests = _requests(workspace, body.requests, body.request_codes)
    vehicles = stored_vehicles(workspace, body.vehicle_codes) if body.vehicle_codes else None
    return requests, vehicles


def _requests(
    workspace: Workspace, inline: list[RequestIn] | None, codes: list[str] | None
) -> gpd.GeoDataFrame | None:
    """Return the inline requests, or the stored ones with ``codes``, or None for neither."""
    if inline is not None:
        # the columns are named even for an empty list: no new households, not a broken frame
        frame = pd.DataFrame([r.model_dump() for r in inline], columns=list(RequestIn.model_fields))
        if frame["code"].duplicated().any():
            raise InvalidRequestError("request codes must be unique")
        return gpd.GeoDataFrame(
            frame.drop(columns=["lon", "lat"]).assign(contact_name=None, phone=None),
            geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
            crs=4326,
        )
    if codes is not None:
        return stored_requests(workspace, codes)
    return None


def _public(stops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return saved stops for the API, distances to the decimetre (stored exact for re-plans)."""
    return [
        stop | {"distance_m": round(stop["distance_m"], 1)}
        if stop.get("distance_m") is not None
        else stop
        for stop in stops
    ]
