"""Between stored rows and the transport model: times, risk classes, and saved plans.

The solver works in location indices and seconds from a day start
(:mod:`geogrid.spatial.transport.model`); the database holds points and datetimes. This
module converts one way when planning (:func:`request_of`, :func:`vehicle_of`,
:func:`site_of`) and back when a saved plan is planned again (:func:`plan_inputs`
serialises what the solver was given, :func:`saved_plan` rebuilds it).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geogrid.errors import InvalidRequestError
from geogrid.spatial.transport import (
    IsolationSite,
    Stop,
    TransferRequest,
    TransportPlan,
    TransportSettings,
    Vehicle,
    VehicleRoute,
)

__all__ = [
    "DAY_S",
    "LOCAL",
    "day_start_of",
    "plan_inputs",
    "request_of",
    "saved_plan",
    "seconds_since",
    "site_of",
    "vehicle_of",
]

LOCAL = ZoneInfo("Asia/Shanghai")
DAY_S = 86_400


def day_start_of(requests: gpd.GeoDataFrame, vehicles: gpd.GeoDataFrame) -> datetime:
    """Return the local midnight of the earliest ready time or shift start (today if none)."""
    stamps = pd.concat([requests["ready_at"], vehicles["shift_start"]]).dropna()
    first = pd.Timestamp(stamps.min()) if len(stamps) else pd.Timestamp.now(tz=LOCAL)
    if first.tzinfo is None:
        first = first.tz_localize(LOCAL)
    return first.tz_convert(LOCAL).normalize().to_pydatetime()


def seconds_since(value: Any, day_start: datetime, default: int) -> int:
    """Return ``value`` (a datetime; naive means Asia/Shanghai) in seconds from the day start."""
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


def request_of(row: Any, day_start: datetime) -> TransferRequest:
    """Return the model request of a request row with a ``location`` column."""
    return TransferRequest(
        code=row.code,
        location=int(row.location),
        group_size=int(row.group_size),
        risk_class=row.risk_class,
        ready_s=max(seconds_since(row.ready_at, day_start, 0), 0),
    )


def vehicle_of(row: Any, day_start: datetime) -> Vehicle:
    """Return the model vehicle of a fleet row with a ``depot`` column."""
    classes = _classes(row.risk_classes)
    return Vehicle(
        code=row.code,
        seats=int(row.seats),
        depot=int(row.depot),
        shift_start_s=max(seconds_since(row.shift_start, day_start, 0), 0),
        shift_end_s=seconds_since(row.shift_end, day_start, 2 * DAY_S),
        **({"risk_classes": classes} if classes else {}),
    )


def site_of(row: Any) -> IsolationSite:
    """Return the model site of a site row with a ``location`` column."""
    classes = _classes(row.risk_classes)
    return IsolationSite(
        code=row.code,
        location=int(row.location),
        capacity=int(row.capacity),
        occupied=int(row.occupied or 0),
        **({"risk_classes": classes} if classes else {}),
    )


def plan_inputs(plan: TransportPlan, points: np.ndarray) -> dict[str, Any]:
    """Return what the solver was given, JSON-ready: enough to plan again later.

    ``points`` are the locations (WGS 84 shapely Points) by matrix index. No personal
    data: requests are codes, sizes, risk classes and ready times.
    """

    def plain(item: Any) -> dict[str, Any]:
        row = asdict(item)
        if "risk_classes" in row:
            row["risk_classes"] = sorted(row["risk_classes"])
        return row

    return {
        "points": shapely.get_coordinates(points).tolist(),  # exact: JSON keeps every bit
        "requests": [plain(r) for r in plan.requests],
        "sites": [plain(s) for s in plan.sites],
        "vehicles": [plain(v) for v in plan.vehicles],
    }


def saved_plan(
    record: dict[str, Any], routes: gpd.GeoDataFrame
) -> tuple[TransportPlan, np.ndarray]:
    """Rebuild a saved plan as the solver made it, and its location points.

    Raises
    ------
    InvalidRequestError
        When the plan was saved without its inputs (before re-planning existed).
    """
    inputs = record.get("inputs") or {}
    if not inputs.get("points"):
        raise InvalidRequestError(
            f"transport plan {record['id']} was saved without its inputs and cannot be "
            "planned again; make a new plan instead",
            details={"plan": record["id"]},
        )
    points = shapely.points(np.asarray(inputs["points"], dtype=float))
    stops = dict(zip(routes["vehicle_code"], routes["stops"], strict=True))
    plan = TransportPlan(
        routes=tuple(
            VehicleRoute(v["code"], tuple(_stop(s) for s in stops.get(v["code"], ())))
            for v in inputs["vehicles"]
        ),
        assignment=dict(record["assignment"]),
        unserved=(),
        requests=tuple(TransferRequest(**r) for r in inputs["requests"]),
        vehicles=tuple(Vehicle(**v) for v in inputs["vehicles"]),
        sites=tuple(IsolationSite(**s) for s in inputs["sites"]),
        settings=TransportSettings(**record["settings"]),
    )
    return plan, points


def _stop(saved: dict[str, Any]) -> Stop:
    distance = saved.get("distance_m")
    return Stop(
        kind=saved["kind"],
        location=int(saved["location"]),
        arrival_s=int(saved["arrival_s"]),
        departure_s=int(saved["departure_s"]),
        distance_m=math.nan if distance is None else float(distance),
        request=saved.get("request"),
        site=saved.get("site"),
        group_size=int(saved.get("group_size", 0)),
    )
