"""Transfer requests, the fleet, and saved transport plans."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, text

__all__ = ["read_plan", "read_transfer_requests", "read_vehicles", "save_plan"]


def read_transfer_requests(conn: Connection, status: str | None = "waiting") -> gpd.GeoDataFrame:
    """Return transfer requests (personal data included: the caller masks it)."""
    where = "WHERE status = :status" if status else ""
    return gpd.read_postgis(
        text(
            "SELECT code, contact_name, phone, id_number, group_size, risk_class, "
            f"health_status, ready_at, address_text, status, geom FROM transfer_requests {where} "
            "ORDER BY code"
        ),
        conn,
        geom_col="geom",
        params={"status": status},
        crs=4326,
    )


def read_vehicles(conn: Connection) -> gpd.GeoDataFrame:
    """Return the fleet with depots, seats, shifts and allowed risk classes."""
    return gpd.read_postgis(
        text(
            "SELECT code, name, seats, depot_name, risk_classes, shift_start, shift_end, geom "
            "FROM vehicles ORDER BY code"
        ),
        conn,
        geom_col="geom",
        crs=4326,
    )


def save_plan(
    conn: Connection,
    *,
    day_start: datetime,
    settings: dict[str, Any],
    summary: dict[str, Any],
    assignment: dict[str, str],
    unserved: list[dict[str, str]],
    routes: list[tuple[str, list[dict[str, Any]], float, shapely.Geometry | None]],
    inputs: dict[str, Any],
    previous_plan_id: int | None = None,
) -> int:
    """Store a plan, what it was planned from, and its vehicle routes; return its id."""
    plan_id = conn.execute(
        text(
            "INSERT INTO transport_plans (day_start, settings, summary, assignment, unserved, "
            "inputs, previous_plan_id) "
            "VALUES (:day_start, CAST(:settings AS jsonb), CAST(:summary AS jsonb), "
            "CAST(:assignment AS jsonb), CAST(:unserved AS jsonb), CAST(:inputs AS jsonb), "
            ":previous) RETURNING id"
        ),
        {
            "inputs": json.dumps(inputs),
            "previous": previous_plan_id,
            "day_start": day_start,
            "settings": json.dumps(settings),
            "summary": json.dumps(summary),
            "assignment": json.dumps(assignment),
            "unserved": json.dumps(unserved),
        },
    ).scalar_one()
    for vehicle, stops, km, geom in routes:
        conn.execute(
            text(
                "INSERT INTO transport_routes (plan_id, vehicle_code, stops, km, geom) VALUES "
                "(:plan, :vehicle, CAST(:stops AS jsonb), :km, "
                "ST_Multi(ST_GeomFromWKB(:geom, 4326)))"
            ),
            {
                "plan": plan_id,
                "vehicle": vehicle,
                "stops": json.dumps(stops),
                "km": km,
                "geom": shapely.to_wkb(geom) if geom is not None else None,
            },
        )
    return int(plan_id)


def read_plan(conn: Connection, plan_id: int) -> tuple[dict[str, Any], gpd.GeoDataFrame] | None:
    """Return a saved plan's record and its routes, or None when there is no such plan."""
    row = (
        conn.execute(
            text(
                "SELECT id, created_at, day_start, settings, summary, assignment, unserved, "
                "inputs, previous_plan_id FROM transport_plans WHERE id = :id"
            ),
            {"id": plan_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    routes = gpd.read_postgis(
        text(
            "SELECT vehicle_code, stops, km, geom FROM transport_routes WHERE plan_id = :id "
            "ORDER BY vehicle_code"
        ),
        conn,
        geom_col="geom",
        params={"id": plan_id},
        crs=4326,
    )
    if not len(routes):  # a plan that moves nobody: the same columns, geometry "geom" too
        routes = gpd.GeoDataFrame(
            {
                "vehicle_code": pd.Series([], dtype=object),
                "stops": pd.Series([], dtype=object),
                "km": pd.Series([], dtype=float),
                "geom": gpd.GeoSeries([], crs=4326),
            },
            geometry="geom",
            crs=4326,
        )
    return dict(row), routes
