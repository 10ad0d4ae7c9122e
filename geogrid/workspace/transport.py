"""Transport to isolation from the workspace: snap, build matrices, solve, draw, save.

Households, sites and depots are snapped to the road network (a point farther than
``MAX_SNAP_M`` from every road cannot be reached: its requests come back ``unreachable``);
travel times and road distances between all of them come from the cached
:class:`~geogrid.spatial.roads.network.RoadNetwork`; the plan itself is
:func:`geogrid.spatial.transport.plan_transport`. Times are seconds from the local
midnight (Asia/Shanghai) of the earliest ready time or shift start.

A saved plan keeps what the solver was given (points, requests, sites, fleet; no personal
data), so :func:`replan_transfers` can plan it again when new households come in, keeping
the trips already under way.

Saved plans name households by code only. Manifests show contact names and phones masked
unless the caller may read them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geogrid.db.queries.transport import read_plan, read_transfer_requests, read_vehicles, save_plan
from geogrid.errors import InvalidRequestError, NotFoundError
from geogrid.privacy import mask_name, mask_phone
from geogrid.spatial.transport import TransportPlan, TransportSettings, plan_transport, replan
from geogrid.workspace._transport_rows import (
    LOCAL,
    day_start_of,
    plan_inputs,
    request_of,
    saved_plan,
    seconds_since,
    site_of,
    vehicle_of,
)

if TYPE_CHECKING:
    from geogrid.spatial.roads.network import RoadNetwork
    from geogrid.workspace import Workspace

__all__ = [
    "LOCAL",
    "MAX_PLAN_REQUESTS",
    "MAX_PLAN_VEHICLES",
    "TransportOutcome",
    "load_plan",
    "plan_transfers",
    "replan_transfers",
    "stored_requests",
    "stored_vehicles",
]

MAX_SNAP_M = 500.0
MAX_PLAN_REQUESTS = 1_000
"""Most households one plan or re-plan may hold when the API asks (matrices grow with the
square, routes with the count: 1,000 take about 8 s besides the solver's budget on 2 cores;
20,000 held a worker for minutes)."""
MAX_PLAN_VEHICLES = 200
"""Most vehicles one plan may name through the API."""

Solve = Callable[[np.ndarray, np.ndarray], TransportPlan]


@dataclass
class TransportOutcome:
    """A solved (and saved) plan with what maps, manifests and checks need.

    ``duration_s``/``distance_m`` are the matrices the solver used, over the locations
    ``requests`` (``location`` column), ``sites`` and ``vehicles`` (``depot`` column) point to.
    """

    plan_id: int | None
    plan: TransportPlan
    day_start: datetime
    requests: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    vehicles: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame
    duration_s: np.ndarray
    distance_m: np.ndarray
    points: np.ndarray  # the locations as shapely Points (WGS 84), by matrix index

    def summary(self) -> dict[str, Any]:
        """Return the headline figures (JSON-ready), with clock times."""
        s = self.plan.summary()
        done = s.all_moved_by_s
        return {
            "plan_id": self.plan_id,
            "households_moved": s.households_moved,
            "people_moved": s.people_moved,
            "all_moved_by": (self.day_start + timedelta(seconds=done)).isoformat()
            if done
            else None,
            "vehicles_used": s.vehicles_used,
            "vehicle_hours": round(s.vehicle_hours, 2),
            "driving_hours": round(s.driving_hours, 2),
            "km_driven": round(s.km_driven, 1),
            "unserved": dict(s.unserved),
            "solve_s": round(self.plan.solve_s, 2),
        }

    def manifest(self, *, reveal_personal: bool = False) -> pd.DataFrame:
        """Return one row per stop of every vehicle, in order, with clock times."""
        people = self.requests.set_index("code")
        rows = []
        for route in self.plan.routes:
            for seq, stop in enumerate(route.stops):
                who = people.loc[stop.request] if stop.request in people.index else None
                name = who["contact_name"] if who is not None else None
                phone = who["phone"] if who is not None else None
                rows.append(
                    {
                        "vehicle": route.vehicle,
                        "seq": seq,
                        "kind": stop.kind,
                        "request": stop.request,
                        "site": stop.site,
                        "people": stop.group_size or None,
                        "arrival": self.day_start + timedelta(seconds=stop.arrival_s),
                        "departure": self.day_start + timedelta(seconds=stop.departure_s),
                        "km": round(stop.distance_m / 1000, 2)
                        if np.isfinite(stop.distance_m)
                        else None,
                        "contact": name if reveal_personal else mask_name(name),
                        "phone": phone if reveal_personal else mask_phone(phone),
                    }
                )
        table = pd.DataFrame(rows)
        if not table.empty:
            table["people"] = table["people"].astype("Int64")
        return table


def plan_transfers(
    workspace: Workspace,
    *,
    requests: gpd.GeoDataFrame | None = None,
    vehicles: gpd.GeoDataFrame | None = None,
    settings: TransportSettings | None = None,
    save: bool = True,
    max_requests: int | None = None,
) -> TransportOutcome:
    """Plan the transfer of waiting households (stored, or given) with the fleet.

    More than ``max_requests`` households (None: no limit) is an
    :class:`~geogrid.errors.InvalidRequestError`, before anything is measured or solved.
    """
    with workspace.engine.connect() as conn:
        requests = requests if requests is not None else read_transfer_requests(conn)
        vehicles = vehicles if vehicles is not None else read_vehicles(conn)
    requests, vehicles = _plain(requests), _plain(vehicles)
    _check_size(len(requests), max_requests, "this plan")
    sites = _plain(workspace.isolation_sites())
    if requests.empty:
        raise InvalidRequestError("there are no waiting transfer requests to plan")
    if vehicles.empty:
        raise InvalidRequestError("there are no vehicles to plan with")
    day_start = day_start_of(requests, vehicles)
    n_req, n_site = len(requests), len(sites)
    requests = requests.assign(location=np.arange(n_req))
    sites = sites.assign(location=np.arange(n_req, n_req + n_site))
    vehicles = vehicles.assign(depot=np.arange(n_req + n_site, n_req + n_site + len(vehicles)))
    points = np.concatenate(
        [requests.geometry.to_numpy(), sites.geometry.to_numpy(), vehicles.geometry.to_numpy()]
    )

    def solve(duration: np.ndarray, distance: np.ndarray) -> TransportPlan:
        return plan_transport(
            [request_of(row, day_start) for row in requests.itertuples()],
            [vehicle_of(row, day_start) for row in vehicles.itertuples()],
            [site_of(row) for row in sites.itertuples()],
            duration,
            distance,
            settings or TransportSettings(),
        )

    outcome = _solve_on_roads(workspace, points, solve, day_start, requests, sites, vehicles)
    if save:
        outcome.plan_id = _save(workspace, outcome)
    return outcome


def replan_transfers(
    workspace: Workspace,
    plan_id: int,
    *,
    now: datetime,
    requests: gpd.GeoDataFrame | None = None,
    settings: TransportSettings | None = None,
    time_budget_s: float | None = None,
    save: bool = True,
    max_requests: int | None = None,
) -> TransportOutcome:
    """Plan a saved plan again at ``now``, keeping the trips already under way.

    A trip is under way once its vehicle has left for the pickup; those trips stay as they
    were. Every other household of the plan, and the new ``requests`` (default: the stored
    waiting requests the plan does not know yet), are assigned and routed again with the
    plan's fleet and sites. A new request with the code of an earlier one replaces it.
    The new plan is saved with a link to the previous one.

    Parameters
    ----------
    plan_id
        The plan being carried out.
    now
        The moment of re-planning (naive means Asia/Shanghai).
    requests
        New households (a frame like :func:`stored_requests` returns).
    settings
        Default: the previous plan's settings.
    time_budget_s
        The solver's budget this time (default: that of ``settings``).
    max_requests
        Most households the new plan may hold, those of the plan and the new ones (None:
        no limit); more is an :class:`~geogrid.errors.InvalidRequestError`, before
        anything is measured or solved.

    Examples
    --------
    >>> later = replan_transfers(ws, 1, now=datetime.now(LOCAL))      # doctest: +SKIP
    >>> later.summary()["people_moved"]                               # doctest: +SKIP
    """
    record, saved_routes = load_plan(workspace, plan_id)
    previous, old_points = saved_plan(record, saved_routes)
    settings = settings or previous.settings
    if time_budget_s is not None:
        settings = replace(settings, time_budget_s=time_budget_s)
    day_start = record["day_start"].astimezone(LOCAL)
    known = {r.code for r in previous.requests}
    if requests is None:
        requests = stored_requests(workspace)
        requests = requests[~requests["code"].isin(known)]
    requests = _plain(requests)
    if requests["code"].duplicated().any():
        raise InvalidRequestError("new request codes must be unique")
    _check_size(len(known | set(requests["code"])), max_requests, "this re-plan")
    requests = requests.assign(location=np.arange(len(requests)) + len(old_points))
    points = np.concatenate([old_points, requests.geometry.to_numpy()])
    now_s = seconds_since(now, day_start, 0)

    def solve(duration: np.ndarray, distance: np.ndarray) -> TransportPlan:
        return replan(
            previous,
            now_s,
            [request_of(row, day_start) for row in requests.itertuples()],
            duration_s=duration,
            distance_m=distance,
            settings=settings,
        )

    everyone, sites, fleet = _frames_of(workspace, previous, points, requests)
    outcome = _solve_on_roads(workspace, points, solve, day_start, everyone, sites, fleet)
    if save:
        outcome.plan_id = _save(workspace, outcome, previous_plan_id=plan_id)
    return outcome


def _check_size(households: int, limit: int | None, what: str) -> None:
    """Refuse a plan of more than ``limit`` households (None: no limit)."""
    if limit is not None and households > limit:
        raise InvalidRequestError(
            f"{what} would hold {households:,} households; a plan holds at most {limit:,}",
            details={"households": households, "limit": limit},
        )


def _solve_on_roads(
    workspace: Workspace,
    points: np.ndarray,
    solve: Solve,
    day_start: datetime,
    requests: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    vehicles: gpd.GeoDataFrame,
) -> TransportOutcome:
    """Snap the locations, measure the matrices, solve, and draw the routes on the roads."""
    network = workspace.road_network("car")
    snapped = network.snap(shapely.get_x(points), shapely.get_y(points), max_distance_m=MAX_SNAP_M)
    duration = network.cost_matrix(snapped, snapped, weight="time")
    distance = network.cost_matrix(snapped, snapped, weight="length")
    plan = solve(duration, distance)
    routes = _route_lines(network, snapped, plan)
    return TransportOutcome(
        None, plan, day_start, requests, sites, vehicles, routes, duration, distance, points
    )


def _frames_of(
    workspace: Workspace,
    plan_before: TransportPlan,
    points: np.ndarray,
    new: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return request, site and vehicle frames of a re-plan, with stored names where known."""

    def frame(rows: list[dict[str, Any]], at: str) -> gpd.GeoDataFrame:
        where = [row[at] for row in rows]
        return gpd.GeoDataFrame(rows, geometry=points[where] if rows else [], crs=4326)

    replaced = set(new["code"])
    earlier = frame([asdict(r) for r in plan_before.requests if r.code not in replaced], "location")
    with workspace.engine.connect() as conn:
        stored = read_transfer_requests(conn, status=None).set_index("code")
    personal = ["contact_name", "phone"]
    earlier = earlier.join(stored[personal], on="code") if len(earlier) else earlier
    everyone = pd.concat([earlier, new], ignore_index=True)
    for column in personal:
        if column not in everyone:
            everyone[column] = None
    sites = frame([asdict(s) for s in plan_before.sites], "location")
    fleet = frame([asdict(v) for v in plan_before.vehicles], "depot")
    return gpd.GeoDataFrame(everyone, geometry="geometry", crs=4326), sites, fleet


def _plain(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``frame`` with its geometry column named ``geometry``."""
    return frame.rename_geometry("geometry") if frame.geometry.name != "geometry" else frame


def stored_requests(workspace: Workspace, codes: list[str] | None = None) -> gpd.GeoDataFrame:
    """Return the waiting transfer requests, all or those with ``codes`` (all must exist)."""
    with workspace.engine.connect() as conn:
        return _pick(read_transfer_requests(conn), codes, "waiting request")


def stored_vehicles(workspace: Workspace, codes: list[str] | None = None) -> gpd.GeoDataFrame:
    """Return the fleet, all or the vehicles with ``codes`` (all must exist)."""
    with workspace.engine.connect() as conn:
        return _pick(read_vehicles(conn), codes, "vehicle")


def _pick(frame: gpd.GeoDataFrame, codes: list[str] | None, what: str) -> gpd.GeoDataFrame:
    if codes is None:
        return frame
    missing = sorted(set(codes) - set(frame["code"]))
    if missing:
        raise InvalidRequestError(
            f"unknown {what} code(s): {', '.join(missing[:10])}", details={"missing": missing}
        )
    return frame[frame["code"].isin(codes)]


def load_plan(workspace: Workspace, plan_id: int) -> tuple[dict[str, Any], gpd.GeoDataFrame]:
    """Return a saved plan's record and its routes; NotFoundError names a missing id."""
    with workspace.engine.connect() as conn:
        found = read_plan(conn, plan_id)
    if found is None:
        raise NotFoundError(f"there is no transport plan {plan_id}", details={"plan": plan_id})
    return found


def _route_lines(network: RoadNetwork, snapped: Any, plan: TransportPlan) -> gpd.GeoDataFrame:
    """Draw every vehicle's route on the roads, leg by leg."""
    legs: dict[tuple[int, int], shapely.LineString | None] = {}
    rows = []
    for route in plan.routes:
        parts = []
        for a, b in zip(route.stops, route.stops[1:], strict=False):
            if a.location == b.location:
                continue
            key = (a.location, b.location)
            if key not in legs:
                legs[key] = network.shortest_path(
                    snapped[a.location], snapped[b.location], weight="time"
                ).geometry
            if legs[key] is not None:
                parts.append(legs[key])
        if parts:
            rows.append(
                {
                    "vehicle": route.vehicle,
                    "trips": route.trips,
                    "km": round(route.distance_m / 1000, 2),
                    "geometry": shapely.MultiLineString(parts),
                }
            )
    return gpd.GeoDataFrame(
        rows, columns=["vehicle", "trips", "km", "geometry"], geometry="geometry", crs=4326
    )


def _save(
    workspace: Workspace, outcome: TransportOutcome, *, previous_plan_id: int | None = None
) -> int:
    plan = outcome.plan
    geoms = dict(zip(outcome.routes["vehicle"], outcome.routes.geometry, strict=True))
    routes = [
        (
            route.vehicle,
            [
                {k: v for k, v in asdict(stop).items() if v is not None}
                | {
                    "lon": round(shapely.get_x(outcome.points[stop.location]), 7),
                    "lat": round(shapely.get_y(outcome.points[stop.location]), 7),
                    # unrounded: a re-plan keeps these stops and their distances
                    "distance_m": stop.distance_m if np.isfinite(stop.distance_m) else None,
                }
                for stop in route.stops
            ],
            round(route.distance_m / 1000, 3),
            geoms.get(route.vehicle),
        )
        for route in plan.routes
        if route.stops
    ]
    with workspace.engine.begin() as conn:
        return save_plan(
            conn,
            day_start=outcome.day_start,
            settings=asdict(plan.settings),
            summary={k: v for k, v in outcome.summary().items() if k != "plan_id"},
            assignment=dict(plan.assignment),
            unserved=[{"request": u.request, "reason": u.reason} for u in plan.unserved],
            routes=routes,
            inputs=plan_inputs(plan, outcome.points),
            previous_plan_id=previous_plan_id,
        )
