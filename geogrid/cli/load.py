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
        bool, typer.Option(help="Delete stored rows of the layer that the file lacks.")
    ] = False,
    repair: Annotated[
        bool, typer.Option(help="Repair invalid geometries (and report them) or refuse.")
    ] = True,
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
        )
    console.print(_summary(reports))
    for report in reports:
        for note in report.notes:
            console.print(f"note: {report.path} ({report.layer}): {note}")
        for fixed in report.repaired:
            console.print(
                f"repaired: {report.path}, row {fixed['row']}: {fixed['reason']}",
                highlight=False,
            )


def _summary(reports: list[LoadReport]) -> Table:
    table = Table(title="loaded")
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
