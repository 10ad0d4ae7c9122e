"""``geogrid locate``: one address, one point, or a CSV of arrivals."""

from __future__ import annotations

import math
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
    from geogrid.workspace.batch import LocateRow, RowResult
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
    out: Annotated[Path | None, typer.Option(help="Where to write the CSV answers.")] = None,
) -> None:
    """Say which grid owns an address or a point, or every row of a CSV."""
    from geogrid.workspace import Workspace
    from geogrid.workspace.batch import LocateRow, locate_rows

    workspace = Workspace.open()
    if csv is not None:
        _locate_csv(workspace, csv, out or csv.with_name(f"{csv.stem}-located.csv"), crs)
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

    from geogrid.workspace.batch import LocateRow

    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(f"cannot be read as CSV ({exc})", path=str(path)) from exc
    lower = {c.lower(): c for c in table.columns}

    def column(*names: str) -> pd.Series | None:
        return next((table[lower[n]] for n in names if n in lower), None)

    ids, texts = column("id", "code"), column("address", "地址")
    lons, lats = column("lon", "lng", "longitude"), column("lat", "latitude")
    crs = column("crs")
    if texts is None and (lons is None or lats is None):
        raise IngestError("needs an 'address' column or 'lon' and 'lat' columns", path=str(path))

    def number(series: pd.Series | None, i: int) -> float | None:
        if series is None or not series.iloc[i].strip():
            return None
        try:
            return float(series.iloc[i])
        except ValueError:
            return math.nan

    rows = [
        LocateRow(
            id=ids.iloc[i] if ids is not None else None,
            address=(texts.iloc[i] or None) if texts is not None else None,
            lon=number(lons, i),
            lat=number(lats, i),
            crs=(crs.iloc[i] or None) if crs is not None else default_crs,
        )
        for i in range(len(table))
    ]
    return table, rows


def _locate_csv(workspace: Workspace, path: Path, out: Path, crs: str) -> None:
    import pandas as pd

    from geogrid.workspace.batch import RowResult, locate_rows, summarise

    table, rows = _read_rows(path, crs)
    results: list[RowResult] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("locating", total=len(rows))
        for start in range(0, len(rows), CHUNK):
            chunk = locate_rows(workspace, rows[start : start + CHUNK])
            results += [RowResult(r.row + start, r.id, r.answer, r.error) for r in chunk]
            progress.advance(task, len(chunk))
    answers = pd.DataFrame([_flatten(r) for r in results])
    pd.concat([table.reset_index(drop=True), answers], axis=1).to_csv(out, index=False)
    summary = Table(title=f"{len(rows):,} rows → {out}")
    summary.add_column("outcome")
    summary.add_column("rows", justify="right")
    for outcome, count in summarise(results).items():
        summary.add_row(outcome, f"{count:,}")
    console.print(summary)


def _flatten(result: RowResult) -> dict[str, object]:
    answer = result.answer
    row: dict[str, object] = {
        "status": answer.status if answer else "failed",
        "error": result.error,
    }
    for level in ("county", "town", "village", "micro"):
        row[f"{level}_code"] = answer.code(level) if answer else None
    if answer is None:
        return row
    village = next((g for g in answer.chain if g.level == "village"), None)
    row["village_name"] = village.name if village else None
    row["industry_codes"] = ";".join(g.code for g in answer.industry)
    row["worker_name"] = answer.worker.name if answer.worker else None
    row["worker_phone"] = answer.worker.phone if answer.worker else None
    row["match_level"] = answer.address.level if answer.address else None
    row["confidence"] = round(answer.confidence, 3)
    row["reasons"] = "; ".join(answer.address.reasons) if answer.address else None
    row["lon_wgs84"], row["lat_wgs84"] = answer.lon, answer.lat
    return row
