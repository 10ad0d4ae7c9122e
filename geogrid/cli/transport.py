"""``geogrid transport``: plan the transfers to isolation and print the manifests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from geogrid.cli._app import app, console, errors_as_messages

if TYPE_CHECKING:
    import geopandas as gpd

    from geogrid.workspace.transport import TransportOutcome


def _read(path: Path | None, kind: str, crs: str | None) -> gpd.GeoDataFrame | None:
    from geogrid.ingest.readers import read_layer
    from geogrid.ingest.specs import spec_for
    from geogrid.ingest.validate import prepare_layer

    if path is None:
        return None
    spec = spec_for(kind)
    frame, _ = prepare_layer(read_layer(path, spec), spec, path=str(path), crs=crs)
    return frame


@app.command()
@errors_as_messages
def transport(
    requests: Annotated[
        Path | None, typer.Option(help="CSV/GeoJSON of waiting households (default: stored).")
    ] = None,
    vehicles: Annotated[Path | None, typer.Option(help="The fleet (default: stored).")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS of the files' coordinates.")] = None,
    disinfection_min: Annotated[
        float | None,
        typer.Option(help="Disinfection after each drop, minutes (15; a re-plan keeps its own)."),
    ] = None,
    time_budget_s: Annotated[float, typer.Option(help="Solver time budget, seconds.")] = 10,
    map: Annotated[
        Path | None, typer.Option(help="Write an offline HTML map of the routes.")
    ] = None,
    replan: Annotated[
        int | None,
        typer.Option(
            help="Plan this saved plan again, keeping the trips under way; --requests then "
            "gives the new households (default: stored waiting ones the plan lacks).",
            metavar="PLAN_ID",
        ),
    ] = None,
    now: Annotated[
        datetime | None,
        typer.Option(help="Moment of re-planning (local time; default: now).", metavar="TIME"),
    ] = None,
) -> None:
    """Assign households to isolation sites and route the vehicles; print the manifests.

    With --replan, a saved plan is planned again: trips whose vehicle has left keep going,
    every other household (and the new ones) is planned anew. Example:
    ``geogrid transport --replan 3 --now 2026-11-23T11:30 --requests late.csv``.
    """
    from geogrid import maps
    from geogrid.spatial.transport import TransportSettings
    from geogrid.workspace import Workspace
    from geogrid.workspace.transport import LOCAL, plan_transfers, replan_transfers
    from geogrid.workspace.transport_map import plan_map

    workspace = Workspace.open()
    settings = TransportSettings(
        disinfection_s=round((15 if disinfection_min is None else disinfection_min) * 60),
        time_budget_s=time_budget_s,
    )
    with console.status("planning…"):
        if replan is not None:
            if vehicles is not None:
                raise typer.BadParameter(
                    "a re-plan keeps the plan's fleet", param_hint="--vehicles"
                )
            outcome = replan_transfers(
                workspace,
                replan,
                now=now or datetime.now(LOCAL),
                requests=_read(requests, "transfer_requests", crs),
                settings=None if disinfection_min is None else settings,
                time_budget_s=time_budget_s,
            )
        else:
            outcome = plan_transfers(
                workspace,
                requests=_read(requests, "transfer_requests", crs),
                vehicles=_read(vehicles, "vehicles", crs),
                settings=settings,
            )
    _print(outcome)
    if map is not None:  # the map the API serves: routes, numbered stops with times, sites
        assert outcome.plan_id is not None  # plans are saved
        maps.save_map(plan_map(workspace, outcome.plan_id), map)
        console.print(f"map: {map}")


def _print(outcome: TransportOutcome) -> None:
    import pandas as pd

    s = outcome.summary()
    console.print(
        f"plan {s['plan_id']}: {s['people_moved']} people in {s['households_moved']} households "
        f"moved by {s['all_moved_by']}, {s['vehicles_used']} vehicles, "
        f"{s['vehicle_hours']} vehicle hours, {s['km_driven']} km (solved in {s['solve_s']} s)"
    )
    for reason, count in s["unserved"].items():
        console.print(f"[bold red]unserved[/]: {count} household(s): {reason}")
    manifest = outcome.manifest()
    for vehicle, stops in manifest.groupby("vehicle", sort=True):
        moving = stops[stops["kind"].isin(["pickup", "drop"])]
        if moving.empty:
            continue
        table = Table(title=f"vehicle {vehicle}", title_justify="left")
        for column in ("time", "stop", "household", "people", "site", "contact", "phone", "km"):
            table.add_column(column, no_wrap=True)
        for row in moving.itertuples():
            table.add_row(
                row.arrival.strftime("%H:%M"),
                row.kind,
                row.request or "",
                "" if pd.isna(row.people) else str(row.people),
                row.site or "",
                row.contact or "",
                row.phone or "",
                f"{row.km or 0:.1f}",
            )
        console.print(table)
