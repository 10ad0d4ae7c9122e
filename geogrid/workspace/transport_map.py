"""The map of a saved transport plan: each vehicle's route, its numbered stops, the sites."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import shapely

from geogrid import maps
from geogrid.workspace._transport_rows import LOCAL
from geogrid.workspace.streets import padded_bounds, street_layer_for
from geogrid.workspace.transport import load_plan

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = ["plan_map"]


def plan_map(
    workspace: Workspace,
    plan_id: int,
    *,
    assets: str = "inline",
    basemap: str = "plain",
    tianditu_key: str | None = None,
) -> folium.Map:
    """Return an offline map of a saved plan: each vehicle's route and the sites, on the
    street base drawn from PostGIS (or on tiles, see :func:`geogrid.maps.new_map`)."""
    record, routes = load_plan(workspace, plan_id)
    routes = routes.rename(columns={"vehicle_code": "vehicle"}).rename_geometry("geometry")
    sites = workspace.isolation_sites().rename_geometry("geometry")
    layers = [
        maps.route_layer(routes[["vehicle", "km", "geometry"]], _stop_points(record, routes)),
        maps.site_layer(sites),
    ]
    view = [layer.bounds for layer in layers if layer.bounds is not None]
    if str(basemap).lower() in ("plain", "offline") and view:  # the offline base, from PostGIS
        box = (
            min(b[0] for b in view),
            min(b[1] for b in view),
            max(b[2] for b in view),
            max(b[3] for b in view),
        )
        layers.insert(0, street_layer_for(workspace, padded_bounds(box)))
    return maps.new_map(
        *layers,
        title=f"Transport plan {plan_id} 转运计划",
        assets=assets,
        basemap=basemap,
        tianditu_key=tianditu_key,
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
