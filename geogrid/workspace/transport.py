"""Transport to isolation from the workspace: snap, build matrices, solve, draw, save.

Households, sites and depots are snapped to the road network (a point farther than
``MAX_SNAP_M`` from every road cannot be reached: its requests come back ``unreachable``);
travel times and road distances between all of them come from the cached
:class:`~geogrid.spatial.network.RoadNetwork`; the plan itself is
:func:`geogrid.spatial.transport.plan_transport`. Times are seconds from the local
midnight (Asia/Shanghai) of the earliest ready time or shift start.

Saved plans name households by code only. Manifests show contact names and phones masked
unless the caller may read them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geogrid import maps
from geogrid.db.queries.transport import read_plan, read_transfer_requests, read_vehicles, save_plan
from geogrid.errors import InvalidRequestError, NotFoundError
from geogrid.privacy import mask_name, mask_phone
from geogrid.spatial.transport import (
    IsolationSite,
    TransferRequest,
    TransportPlan,
    TransportSettings,
    Vehicle,
    plan_transport,
)

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = [
    "TransportOutcome",
    "load_plan",
    "plan_map",
    "plan_transfers",
    "stored_requests",
    "stored_vehicles",
]

LOCAL = ZoneInfo("Asia/Shanghai")
MAX_SNAP_M = 500.0
DAY_S = 86_400


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
) -> TransportOutcome:
    """Plan the transfer of waiting households (stored, or given) with the fleet."""
    with workspace.engine.connect() as conn:
        requests = requests if requests is not None else read_transfer_requests(conn)
        vehicles = vehicles if vehicles is not None else read_vehicles(conn)
    requests = (
        requests.rename_geometry("geometry") if requests.geometry.name != "geometry" else requests
    )
    vehicles = (
        vehicles.rename_geometry("geometry") if vehicles.geometry.name != "geometry" else vehicles
    )
    sites = workspace.isolation_sites().rename_geometry("geometry")
    if requests.empty:
        raise InvalidRequestError("there are no waiting transfer requests to plan")
    if vehicles.empty:
        raise InvalidRequestError("there are no vehicles to plan with")
    network = workspace.road_network()
    points = np.concatenate(
        [requests.geometry.to_numpy(), sites.geometry.to_numpy(), vehicles.geometry.to_numpy()]
    )
    snapped = network.snap(shapely.get_x(points), shapely.get_y(points), max_distance_m=MAX_SNAP_M)
    duration = network.cost_matrix(snapped, snapped, weight="time")
    distance = network.cost_matrix(snapped, snapped, weight="length")
    day_start = _day_start(requests, vehicles)
    n_req, n_site = len(requests), len(sites)
    requests = requests.assign(location=np.arange(n_req))
    sites = sites.assign(location=np.arange(n_req, n_req + n_site))
    vehicles = vehicles.assign(depot=np.arange(n_req + n_site, len(points)))
    plan = plan_transport(
        [_request(row, day_start) for row in requests.itertuples()],
        [_vehicle(row, day_start) for row in vehicles.itertuples()],
        [_site(row) for row in sites.itertuples()],
        duration,
        distance,
        settings or TransportSettings(),
    )
    routes = _route_lines(network, snapped, plan)
    outcome = TransportOutcome(
        None, plan, day_start, requests, sites, vehicles, routes, duration, distance, points
    )
    if save:
        outcome.plan_id = _save(workspace, outcome)
    return outcome


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


def plan_map(workspace: Workspace, plan_id: int, *, assets: str = "inline") -> folium.Map:
    """Return an offline map of a saved plan: each vehicle's route and the sites."""
    record, routes = load_plan(workspace, plan_id)
    routes = routes.rename(columns={"vehicle_code": "vehicle"}).rename_geometry("geometry")
    sites = workspace.isolation_sites().rename_geometry("geometry")
    return maps.new_map(
        maps.route_layer(routes[["vehicle", "km", "geometry"]], _stop_points(record, routes)),
        maps.site_layer(sites),
        title=f"Transport plan {plan_id} 转运计划",
        assets=assets,
    )


def _stop_points(record: dict[str, Any], routes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the pickups and drops of a saved plan as numbered points with their times."""
    day_start = record["day_start"]
    rows = []
    for vehicle, stops in zip(routes["vehicle"], routes["stops"], strict=True):
        moving = [stop for stop in stops if stop["kind"] in ("pickup", "drop") and "lon" in stop]
        for order, stop in enumerate(moving, start=1):
            rows.append(
                {
                    "vehicle": vehicle,
                    "order": order,
                    "name": f"{stop['kind']} {stop.get('request', '')} → {stop.get('site', '')}",
                    "arrival": _clock(day_start, stop["arrival_s"]),
                    "departure": _clock(day_start, stop["departure_s"]),
                    "geometry": shapely.Point(stop["lon"], stop["lat"]),
                }
            )
    return gpd.GeoDataFrame(
        rows,
        columns=["vehicle", "order", "name", "arrival", "departure", "geometry"],
        geometry="geometry",
        crs=4326,
    )


def _clock(day_start: datetime, seconds: int) -> str:
    return (day_start + timedelta(seconds=seconds)).astimezone(LOCAL).strftime("%H:%M")


def _day_start(requests: gpd.GeoDataFrame, vehicles: gpd.GeoDataFrame) -> datetime:
    stamps = pd.concat([requests["ready_at"], vehicles["shift_start"]]).dropna()
    first = pd.Timestamp(stamps.min()) if len(stamps) else pd.Timestamp.now(tz=LOCAL)
    if first.tzinfo is None:
        first = first.tz_localize(LOCAL)
    return first.tz_convert(LOCAL).normalize().to_pydatetime()


def _seconds(value: Any, day_start: datetime, default: int) -> int:
    if value is None or pd.isna(value):
        return default
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(LOCAL)
    return int((stamp.to_pydatetime() - day_start).total_seconds())


def _classes(value: Any) -> frozenset[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return frozenset()
    if isinstance(value, str):
        value = [v.strip() for v in value.strip("{}").split(",") if v.strip()]
    return frozenset(value)


def _request(row: Any, day_start: datetime) -> TransferRequest:
    return TransferRequest(
        code=row.code,
        location=int(row.location),
        group_size=int(row.group_size),
        risk_class=row.risk_class,
        ready_s=max(_seconds(row.ready_at, day_start, 0), 0),
    )


def _vehicle(row: Any, day_start: datetime) -> Vehicle:
    classes = _classes(row.risk_classes)
    return Vehicle(
        code=row.code,
        seats=int(row.seats),
        depot=int(row.depot),
        shift_start_s=max(_seconds(row.shift_start, day_start, 0), 0),
        shift_end_s=_seconds(row.shift_end, day_start, 2 * DAY_S),
        **({"risk_classes": classes} if classes else {}),
    )


def _site(row: Any) -> IsolationSite:
    classes = _classes(row.risk_classes)
    return IsolationSite(
        code=row.code,
        location=int(row.location),
        capacity=int(row.capacity),
        occupied=int(row.occupied or 0),
        **({"risk_classes": classes} if classes else {}),
    )


def _route_lines(network: Any, snapped: Any, plan: TransportPlan) -> gpd.GeoDataFrame:
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


def _save(workspace: Workspace, outcome: TransportOutcome) -> int:
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
                    "distance_m": round(stop.distance_m, 1)
                    if np.isfinite(stop.distance_m)
                    else None,
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
        )
