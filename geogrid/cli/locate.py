"""``geogrid locate``: one address, one point, or a CSV of arrivals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from geogrid.cli._app import app, console, errors_as_messages
from geogrid.errors import IngestError, InvalidRequestError

if TYPE_CHECKING:
    import pandas as pd

    from geogrid.workspace import Workspace
    from geogrid.workspace.batch import LocateRow
    from geogrid.workspace.locate import LocateAnswer

CHUNK = 5_000


@app.command()
@errors_as_messages
def locate(
    address: Annotated[str | None, typer.Argument(help="A Chinese address.")] = None,
    lon: Annotated[float | None, typer.Option(help="Longitude (x) in --crs.")] = None,
    lat: Annotated[float | None, typer.Option(help="Latitude (y) in --crs.")] = None,
    crs: Annotated[str, typer.Option(help="wgs84, cgcs2000, gcj02, bd09 or EPSG:n.")] = "wgs84",
    csv: Annotated[
        Path | None, typer.Option(help="CSV with id, address or lon/lat[, crs] columns.")
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(help="Where to write the answers: a CSV for --csv, a folder for --batch."),
    ] = None,
    batch: Annotated[
        list[str] | None,
        typer.Option(
            help="CSV or Parquet files on Dask: paths, globs or fsspec URLs (repeatable); "
            "answers go to --out as Parquet."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="--batch: local worker processes (default: cores).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="--batch: address of an existing Dask scheduler.")
    ] = None,
    blocksize: Annotated[
        int, typer.Option(min=1, help="--batch: bytes of CSV per partition.")
    ] = 16_000_000,
) -> None:
    """Say which grid owns an address or a point, every row of a CSV, or of a batch of
    files on Dask (--batch)."""
    from geogrid.workspace import Workspace
    from geogrid.workspace.batch import LocateRow, locate_rows

    if batch:
        if not out:
            raise InvalidRequestError("--batch needs --out FOLDER for the Parquet answers")
        _locate_batch(batch, out, crs, workers, scheduler, blocksize)
        return
    workspace = Workspace.open()
    if csv is not None:
        target = Path(out) if out else csv.with_name(f"{csv.stem}-located.csv")
        _locate_csv(workspace, csv, target, crs)
        return
    row = LocateRow(address=address, lon=lon, lat=lat, crs=crs)
    result = locate_rows(workspace, [row])[0]
    if result.answer is None:
        raise InvalidRequestError(result.error or "nothing to locate")
    _print_answer(result.answer)


def _print_answer(answer: LocateAnswer) -> None:
    if answer.address is not None:
        match = answer.address
        console.print(
            f"address: {match.full_text or match.text}  [level {match.level}, "
            f"confidence {match.confidence:.2f}, {match.method}]",
            highlight=False,
        )
        if match.reasons:
            console.print(f"why: {'; '.join(match.reasons)}", highlight=False)
        if match.ignored:
            console.print(f"ignored: {' '.join(match.ignored)}", highlight=False)
    if answer.lon is not None:
        console.print(f"point (WGS 84): {answer.lon:.6f}, {answer.lat:.6f}")
    console.print(f"status: {answer.status}")
    for grid in answer.chain:
        console.print(f"  {grid.level:<8} {grid.code:<22} {grid.name}", highlight=False)
    for grid in answer.industry:
        console.print(f"  industry {grid.code:<22} {grid.name}", highlight=False)
    for gap in answer.gaps:
        console.print(f"  gap at {gap.level}: nearest {gap.nearest.code} {gap.distance_m:.0f} m")
    if answer.worker:
        console.print(f"grid worker: {answer.worker.name} {answer.worker.phone or ''}")
    if answer.address is not None:
        for c in answer.address.candidates:
            console.print(f"  candidate: {c.full_text or c.village or c.town} ({c.score:.2f})")


def _read_rows(path: Path, default_crs: str) -> tuple[pd.DataFrame, list[LocateRow]]:
    import pandas as pd

    from geogrid.workspace.batch import rows_from_table

    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(f"cannot be read as CSV ({exc})", path=str(path)) from exc
    return table, rows_from_table(table, default_crs, source=str(path))


def _locate_csv(workspace: Workspace, path: Path, out: Path, crs: str) -> None:
    import pandas as pd

    from geogrid.workspace.batch import RowResult, flatten_result, locate_rows, summarise

    table, rows = _read_rows(path, crs)
    results: list[RowResult] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("locating", total=len(rows))
        for start in range(0, len(rows), CHUNK):
            chunk = locate_rows(workspace, rows[start : start + CHUNK])
            results += [RowResult(r.row + start, r.id, r.answer, r.error) for r in chunk]
            progress.advance(task, len(chunk))
    answers = pd.DataFrame([flatten_result(r) for r in results])
    pd.concat([table.reset_index(drop=True), answers], axis=1).to_csv(out, index=False)
    summary = Table(title=f"{len(rows):,} rows → {out}")
    summary.add_column("outcome")
    summary.add_column("rows", justify="right")
    for outcome, count in summarise(results).items():
        summary.add_row(outcome, f"{count:,}")
    console.print(summary)


def _locate_batch(
    sources: list[str],
    out: str,
    crs: str,
    workers: int | None,
    scheduler: str | None,
    blocksize: int,
) -> None:
    from geogrid.workspace import Workspace
    from geogrid.workspace.dask_batch import (
        expand_sources,
        has_addresses,
        locate_files,
        start_client,
    )

    files = expand_sources(sources)
    needs_addresses = has_addresses(files)
    console.print(f"building the locator{' (with addresses)' if needs_addresses else ''} ...")
    locator = Workspace.open().locator(addresses=needs_addresses)
    with start_client(workers, scheduler) as client:
        where = scheduler or f"a local cluster of {workers or 'all cores as'} workers"
        console.print(f"locating {len(files)} file(s) on {where}", highlight=False)
        run = locate_files(locator, files, out, client, default_crs=crs, blocksize=blocksize)
    summary = Table(title=f"{run.rows_in:,} rows in, {run.rows_out:,} rows out → {run.out}")
    summary.add_column("outcome")
    summary.add_column("rows", justify="right")
    for outcome, count in run.outcomes.items():
        summary.add_row(outcome.replace("status:failed", "failed"), f"{count:,}")
    console.print(summary)
    console.print(
        f"{run.workers} workers; the locator ({run.locator_bytes / 1e6:.1f} MB pickled) "
        f"reached them in {run.ship_s:.1f} s; locating took {run.locate_s:.1f} s",
        highlight=False,
    )
