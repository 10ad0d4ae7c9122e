"""``geogrid load PATH --kind KIND`` and ``geogrid load demo``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from geogrid.cli._app import app, console, errors_as_messages
from geogrid.ingest.specs import LAYER_SPECS

if TYPE_CHECKING:
    from geogrid.ingest.validate import LoadReport

KINDS = ", ".join(LAYER_SPECS)


@app.command()
@errors_as_messages
def load(
    path: Annotated[str, typer.Argument(help="A file to load, or 'demo' for the demo data.")],
    kind: Annotated[str | None, typer.Option(help=f"Layer kind: {KINDS}.")] = None,
    layer: Annotated[str | None, typer.Option(help="Layer inside the file.")] = None,
    crs: Annotated[
        str | None, typer.Option(help="Source CRS: wgs84, cgcs2000, gcj02, bd09 or EPSG:n.")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            help="Delete stored rows the file lacks: for grids, only under the parents the "
            "file holds (level by level); for workers, of the grids it names; for other "
            "kinds, in the whole layer."
        ),
    ] = False,
    repair: Annotated[
        bool, typer.Option(help="Repair invalid geometries (and report them) or refuse.")
    ] = True,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Say what the load would add, change and delete; write nothing."
        ),
    ] = False,
) -> None:
    """Load a GeoPackage, GeoJSON, Shapefile (zip), CSV or OSM extract, in one transaction."""
    from geogrid.db.engine import get_engine
    from geogrid.ingest.demo import demo_requests
    from geogrid.ingest.load import LoadRequest, load_files

    if path == "demo":
        requests = demo_requests()
    else:
        if kind is None:
            raise typer.BadParameter(f"--kind is required; one of: {KINDS}")
        requests = [LoadRequest(Path(path), kind, layer, crs)]
    with console.status("loading…") as status:
        reports = load_files(
            get_engine(),
            requests,
            replace=replace,
            repair=repair,
            progress=status.update,
            dry_run=dry_run,
        )
    console.print(_summary(reports, dry_run))
    for report in reports:
        if report.deleted:
            console.print(_deleted(report), highlight=False, soft_wrap=True)
        for note in report.notes:
            console.print(f"note: {report.path} ({report.layer}): {note}")
        for fixed in report.repaired:
            console.print(
                f"repaired: {report.path}, row {fixed['row']}: {fixed['reason']}",
                highlight=False,
            )


def _deleted(report: LoadReport, shown: int = 10) -> str:
    """Return "layer: n rows deleted: the first codes and how many more"."""
    codes = ", ".join(report.deleted_codes[:shown])
    more = report.deleted - min(shown, len(report.deleted_codes))
    rows = "1 row" if report.deleted == 1 else f"{report.deleted:,} rows"
    verb = "would be deleted" if report.dry_run else "deleted"
    return f"{report.layer}: {rows} {verb}: {codes}" + (f" and {more:,} more" if more else "")


def _summary(reports: list[LoadReport], dry_run: bool) -> Table:
    title = "dry run: nothing was written" if dry_run else "loaded"
    table = Table(title=title)
    for column in ("layer", "rows", "new", "changed", "same", "deleted", "repaired", "rows/s"):
        table.add_column(column, justify="left" if column == "layer" else "right", no_wrap=True)
    for r in reports:
        rate = r.rows / r.seconds if r.seconds else 0.0
        table.add_row(
            r.layer,
            f"{r.rows:,}",
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.unchanged:,}",
            f"{r.deleted:,}",
            f"{len(r.repaired):,}",
            f"{rate:,.0f}",
        )
    return table
