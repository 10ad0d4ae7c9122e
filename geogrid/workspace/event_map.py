"""The map of open and overdue events by grid: what the command centre looks at.

Village grids (of the county, or of one grid's subtree) coloured by level as every
geogrid map, a marker per open event (blue) and per overdue one (red), and a label per
village with its open and overdue counts. Events show codes, service and times only:
no reporter, phone or health code reaches the page. Built with :mod:`geogrid.maps`
(offline: the base is the streets from PostGIS), printable as PDF with
:func:`geogrid.maps.print_html`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import shapely

from geogrid import maps
from geogrid.access import Caller
from geogrid.errors import NotFoundError
from geogrid.workspace.events import find_events
from geogrid.workspace.streets import padded_bounds, street_layer_for

if TYPE_CHECKING:
    import folium

    from geogrid.workspace import Workspace

__all__ = ["event_counts_by_grid", "events_map"]

OPEN_STATUSES = ["open", "acknowledged"]


def event_counts_by_grid(events: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """Return per village grid the open events and the overdue ones among them.

    >>> frame = pd.DataFrame({"village_code": ["V1", "V1", None],
    ...     "expected_at": pd.to_datetime(["2020-01-31T10:00Z", "2020-01-31T14:00Z",
    ...                                    "2020-01-31T09:00Z"])})
    >>> event_counts_by_grid(frame, pd.Timestamp("2020-01-31T12:00Z")).to_dict("records")
    [{'code': 'V1', 'open': 2, 'overdue': 1}]
    """
    placed = events[events["village_code"].notna()]
    if placed.empty:
        return pd.DataFrame({"code": [], "open": [], "overdue": []})
    late = placed["expected_at"] < now
    counts = (
        placed.assign(overdue=late.astype(int), open=1)
        .groupby("village_code", sort=True)[["open", "overdue"]]
        .sum()
        .reset_index()
        .rename(columns={"village_code": "code"})
    )
    return counts[["code", "open", "overdue"]]


def events_map(
    workspace: Workspace,
    caller: Caller,
    grid_code: str | None = None,
    *,
    assets: str = "inline",
) -> folium.Map:
    """Return the offline map of the open events the caller may read, under ``grid_code``
    (default: the caller's jurisdiction, else the county).

    Raises
    ------
    NotFoundError
        ``grid_code`` names no grid (or one outside a grid worker's jurisdiction).
    """
    root = grid_code or caller.subtree
    grids = workspace.grids().rename_geometry("geometry")
    if root is not None and (not caller.covers_grid(root) or not (grids["code"] == root).any()):
        raise NotFoundError(f"there is no grid {root[:64]!r}", details={"grid": root[:64]})
    now = workspace.clock.now()
    rows = find_events(workspace, caller, statuses=OPEN_STATUSES, limit=100_000)
    events = pd.DataFrame(rows, columns=list(rows[0]) if rows else ["village_code"])
    if root is not None and len(events):
        inside = events["grid_code"].fillna("").map(lambda c: c == root or c.startswith(root + "-"))
        events = events[inside]
    villages = grids[grids["level"] == "village"]
    if root is not None:
        villages = villages[
            (villages["code"] == root)
            | villages["code"].str.startswith(root + "-")
            | villages["code"].map(lambda c: root.startswith(c + "-"))
        ]
    counts = event_counts_by_grid(events, pd.Timestamp(now)) if len(events) else None
    layers: list[object] = [maps.grid_layer(villages, name="Village grids 村社网格")]
    if counts is not None and len(counts):
        marks = villages.merge(counts, on="code")
        marks = marks.assign(geometry=shapely.point_on_surface(marks.geometry.to_numpy()))
        layers.append(
            maps.point_layer(
                gpd.GeoDataFrame(marks, geometry="geometry", crs=4326),
                fields=("name", "code", "open", "overdue"),
                name="Open / overdue per grid 网格事件",
                color="#495057",
            )
        )
    if len(events):
        placed = events[events["lon"].notna()]
        late = placed["expected_at"] < now
        for frame, label, color in (
            (placed[~late], "Open events 未办结", "#1c7ed6"),
            (placed[late], "Overdue events 已超时", "#e03131"),
        ):
            if frame.empty:
                continue
            shown = gpd.GeoDataFrame(
                frame.assign(
                    expected=frame["expected_at"].map(lambda t: t.isoformat(timespec="minutes"))
                )[["id", "service_code", "status", "agency_code", "grid_code", "expected"]],
                geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                crs=4326,
            )
            layers.append(
                maps.point_layer(
                    shown,
                    fields=("id", "service_code", "status", "agency_code", "grid_code", "expected"),
                    name=label,
                    color=color,
                )
            )
    if root is not None:  # the streets of one town or village (the county's are too many)
        extent = padded_bounds(tuple(villages.total_bounds))  # type: ignore[arg-type]
        layers.insert(0, street_layer_for(workspace, extent))
    title = f"Events {root or 'county'} · {now.isoformat(timespec='minutes')}"
    return maps.new_map(*layers, title=title, assets=assets)
