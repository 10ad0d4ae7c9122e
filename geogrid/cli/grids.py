"""``geogrid grids check``: do the children tile their parents? Gaps, overlaps, slivers."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from geogrid.cli._app import app, console, errors_as_messages, stderr
from geogrid.spatial.gridtolerances import (
    DEFAULT_SLIVER_M2,
    DEFAULT_SLIVER_WIDTH_M,
    DEFAULT_TOLERANCE_M2,
)

if TYPE_CHECKING:
    from geogrid.spatial.gridproblems import GridReport

grids_app = typer.Typer(help="Check the grid set.", no_args_is_help=True)
app.add_typer(grids_app, name="grids")


class ReportFormat(StrEnum):
    """How ``geogrid grids check`` writes the problems."""

    TABLE = "table"
    JSON = "json"
    GEOJSON = "geojson"


@grids_app.command("check")
@errors_as_messages
def check(
    parent: Annotated[
        str | None, typer.Option(help="Check only this grid's children (a grid code).")
    ] = None,
    report_format: Annotated[
        ReportFormat,
        typer.Option("--format", help="table, json (summary and problems) or geojson."),
    ] = ReportFormat.TABLE,
    out: Annotated[Path | None, typer.Option(help="Write the report here, not to stdout.")] = None,
    tolerance_m2: Annotated[
        float, typer.Option(min=0, help="Smaller gaps and overlaps are ignored (m²).")
    ] = DEFAULT_TOLERANCE_M2,
    sliver_m2: Annotated[
        float, typer.Option(min=0, help="Smaller problem areas are slivers (m²).")
    ] = DEFAULT_SLIVER_M2,
    sliver_width_m: Annotated[
        float, typer.Option(min=0, help="Thinner problem areas are slivers (m).")
    ] = DEFAULT_SLIVER_WIDTH_M,
) -> None:
    """Check that child grids tile their parents: gaps, overlaps, children outside their
    parent, slivers, mismatching borders, invalid geometries, codes and levels.

    Exit status 0 when the grids are clean, 1 when problems were found (or on an error).
    """
    from geogrid.workspace import Workspace
    from geogrid.workspace.grids import grid_report

    with stderr.status("checking grids…"):
        report = grid_report(
            Workspace.open(),
            parent,
            tolerance_m2=tolerance_m2,
            sliver_m2=sliver_m2,
            sliver_width_m=sliver_width_m,
        )
    if report_format is ReportFormat.TABLE:
        if out is None:
            _print_table(report, console)
        else:
            with out.open("w", encoding="utf-8") as handle:
                _print_table(report, Console(file=handle, width=200, no_color=True))
    else:
        text = (
            json.dumps(report.to_dict(), ensure_ascii=False, indent=2)
            if report_format is ReportFormat.JSON
            else report.to_geodataframe().to_json(drop_id=True, ensure_ascii=False, indent=2)
        )
        if out is None:
            typer.echo(text)
        else:
            out.write_text(text + "\n", encoding="utf-8")
    summary_to = console if report_format is ReportFormat.TABLE and out is None else stderr
    summary_to.print(_summary_line(report), highlight=False, soft_wrap=True)
    if out is not None:
        summary_to.print(f"report: {out}", highlight=False)
    if not report.is_clean:
        raise typer.Exit(1)


def _print_table(report: GridReport, to: Console) -> None:
    if report.is_clean:
        return
    table = Table(title="grid problems")
    for column, justify in (
        ("kind", "left"),
        ("grids", "left"),
        ("area m²", "right"),
        ("where (lon, lat)", "left"),
        ("problem", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for p in report.problems:
        kind = f"{p.kind}" + (f" ({p.detail})" if p.kind == "sliver" else "")
        where = "" if p.point.is_empty else f"{p.point.x:.6f}, {p.point.y:.6f}"
        table.add_row(
            kind, escape(", ".join(p.codes)), f"{p.area_m2:,.1f}", where, escape(p.message)
        )
    to.print(table)


def _summary_line(report: GridReport) -> str:
    scope = f"grid {report.parent_code} and its children" if report.parent_code else "all grids"
    head = (
        f"{scope}: {_count(report.grids_checked, 'grid')}, "
        f"{_count(report.parents_checked, 'parent')} checked"
    )
    if report.is_clean:
        return f"{head}: no problems"
    counts = ", ".join(f"{n} {kind}" for kind, n in report.counts().items() if n)
    return f"{head}: {_count(len(report.problems), 'problem')} ({counts})"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
