"""``geogrid gaps GRID``: is every way in guarded? The per-grid table, and a map."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from geogrid.cli._app import app, console, errors_as_messages


@app.command()
@errors_as_messages
def gaps(
    grid: Annotated[str, typer.Argument(help="Grid code or name, e.g. 鳌江镇.")],
    tolerance_m: Annotated[float, typer.Option(help="Guarding distance along roads (m).")] = 50.0,
    reach_m: Annotated[float, typer.Option(help="Reach of a checkpoint along roads (m).")] = 1000.0,
    plan: Annotated[bool, typer.Option(help="Also propose the fewest new sites.")] = False,
    budget: Annotated[int | None, typer.Option(help="At most this many new sites.")] = None,
    map: Annotated[Path | None, typer.Option(help="Write an offline HTML map here.")] = None,
    profile: Annotated[
        str, typer.Option(help="Distances walked on the foot or the car network.")
    ] = "foot",
) -> None:
    """Print the entries, guarded and unguarded, of a grid and of each of its children."""
    from geogrid.maps import save_map
    from geogrid.spatial.coverage.table import TABLE_COLUMNS
    from geogrid.workspace import Workspace
    from geogrid.workspace.coverage import analyse_grid, coverage_map, plan_grid

    columns = tuple(c for c in TABLE_COLUMNS if c != "entries")  # ways in, not all entries
    workspace = Workspace.open()
    with console.status("analysing…"):
        if plan or budget is not None:
            result, sites = plan_grid(
                workspace,
                grid,
                budget=budget,
                tolerance_m=tolerance_m,
                reach_m=reach_m,
                profile=profile,  # type: ignore[arg-type]  # the workspace checks it
            )
        else:
            result = analyse_grid(
                workspace,
                grid,
                tolerance_m=tolerance_m,
                reach_m=reach_m,
                profile=profile,  # type: ignore[arg-type]
            )
            sites = None
    summary = result.summary()
    console.print(
        f"{summary['grid_name']} ({summary['grid_code']}): {summary['ways_in']} ways in, "
        f"{summary['guarded']} guarded, [bold]{summary['unguarded']} unguarded[/]; "
        f"{summary['addresses_unreached']:,} of {summary['addresses']:,} addresses and "
        f"{summary['area_unreached_share']:.1%} of the area beyond {reach_m:.0f} m"
    )
    if not result.children.empty:
        table = Table(title="per child grid")
        for column in columns:
            table.add_column(
                column, justify="left" if column in ("code", "name") else "right", no_wrap=True
            )
        for row in result.children.itertuples(index=False):
            table.add_row(
                *(
                    f"{getattr(row, c):,}"
                    if isinstance(getattr(row, c), int)
                    else str(getattr(row, c))
                    for c in columns
                )
            )
        console.print(table)
    if sites is not None:
        after = sites.summary()
        console.print(
            f"{after['new_sites']} new site(s) ({after['formulation']}, "
            f"{'optimal' if after['optimal'] else 'not proven optimal'}): guarded share "
            f"{after['before_guarded_share']:.1%} → {after['after_guarded_share']:.1%}"
        )
    if map is not None:
        save_map(coverage_map(workspace, result, sites), map)
        console.print(f"map: {map}")
