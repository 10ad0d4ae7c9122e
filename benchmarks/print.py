"""Seconds per grid sheet: HTML, PNG and PDF, one at a time and as a batch of children.

Sheets carry the offline street base (roads by class with names, water, house numbers).
Uses a synthetic county (``geogrid.maps.testing``) with 50 villages, or with
``--database-url`` the first 50 villages of that database (the demo county: load it with
``geogrid load --demo``), read through the workspace as ``geogrid maps sheet`` does
(streets from PostGIS, entries as the coverage analysis finds them). Prints medians for
two ways of driving headless Chromium side by side:

- reused: one browser under chromedriver, kept open, waiting for each map's ready flag;
- process: one ``chromium --headless`` process per sheet (``--virtual-time-budget``).

The batch is a town's ``--children`` run: every village sheet of the county into one PDF.
Usage::

    .venv/bin/python benchmarks/print.py [--samples 7] [--batch 50] [--no-process-batch]
        [--database-url postgresql+psycopg://...]

The headline figure is the batch's median seconds per sheet (HTML and PDF of each sheet
timed on its own, one browser reused for all 50).
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import shapely
from pypdf import PdfReader, PdfWriter

from geogrid.maps import Printer, print_html_process, render_grid_sheet, street_layer
from geogrid.maps.sheets import SHEET_LABEL_PX, sheet_extent
from geogrid.maps.testing import synthetic_county


def _median_s(run: Callable[[int], object], samples: int) -> float:
    times = []
    for i in range(samples):
        started = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=7, help="sheets timed per single figure")
    parser.add_argument("--batch", type=int, default=50, help="sheets in the batch")
    parser.add_argument(
        "--no-process-batch", action="store_true", help="skip the slow one-process batch"
    )
    parser.add_argument("--database-url", help="print this database's villages")
    args = parser.parse_args()
    if args.database_url:
        codes, sheet = _database_sheets(args.database_url, args.batch)
        source = f"{len(codes)} villages of the database"
    else:
        codes, sheet = _synthetic_sheets(args.batch)
        source = f"{len(codes)} villages of a synthetic county"

    out = Path(tempfile.mkdtemp(prefix="geogrid-print-bench-"))
    sheet(0)  # warm caches (inlined Leaflet, imports)
    html_s = _median_s(sheet, args.samples)
    pages = [sheet(i) for i in range(args.samples)]
    rows: list[tuple[str, str, float]] = [("HTML", "-", html_s)]

    started = time.perf_counter()
    printer = Printer()
    start_s = time.perf_counter() - started
    html_times: list[float] = []
    pdf_times: list[float] = []
    with printer:
        printer.render(pages[0], format="pdf")  # warm the browser
        for fmt in ("png", "pdf"):
            median = _median_s(lambda i, f=fmt: printer.render(pages[i], format=f), args.samples)
            rows.append((fmt.upper(), "reused", median))
        started = time.perf_counter()
        writer = PdfWriter()
        for i in range(len(codes)):
            t0 = time.perf_counter()
            page = sheet(i)
            t1 = time.perf_counter()
            data = printer.render(page, format="pdf")
            pdf_times.append(time.perf_counter() - t1)
            html_times.append(t1 - t0)
            writer.append(io.BytesIO(data))
        writer.write(out / "batch.pdf")
        reused_batch_s = time.perf_counter() - started + start_s
    assert len(PdfReader(out / "batch.pdf").pages) == len(codes)
    per_sheet = [h + p for h, p in zip(html_times, pdf_times, strict=True)]

    for fmt in ("png", "pdf"):
        median = _median_s(
            lambda i, f=fmt: print_html_process(pages[i], out / f"p{i}.{f}"), args.samples
        )
        rows.append((fmt.upper(), "process", median))

    process_batch_s = None
    if not args.no_process_batch:
        started = time.perf_counter()
        writer = PdfWriter()
        for i in range(len(codes)):
            writer.append(print_html_process(sheet(i), out / f"batch-{i}.pdf"))
        writer.write(out / "batch-process.pdf")
        process_batch_s = time.perf_counter() - started

    print(f"grid sheets, A4 portrait, offline street base; {source}")
    print(
        f"batch of {len(codes)}, one browser reused: median {statistics.median(per_sheet):.3f} "
        f"s/sheet (HTML {statistics.median(html_times):.3f} + PDF "
        f"{statistics.median(pdf_times):.3f}), max {max(per_sheet):.3f}"
    )
    print(f"medians of {args.samples} sheets:")
    print(f"{'what':<6} {'browser':<8} {'s/sheet':>8}")
    for what, how, seconds in rows:
        print(f"{what:<6} {how:<8} {seconds:>8.3f}")
    print(f"browser start (reused only, once per batch): {start_s:.2f} s")
    print(
        f"batch of {len(codes)} sheets -> one PDF, reused browser: {reused_batch_s:.1f} s "
        f"({reused_batch_s / len(codes):.3f} s/sheet, HTML included)"
    )
    if process_batch_s is not None:
        print(
            f"batch of {len(codes)} sheets -> one PDF, one process each: {process_batch_s:.1f} s "
            f"({process_batch_s / len(codes):.3f} s/sheet, HTML included)"
        )
    print(f"files in {out}")


def _synthetic_sheets(batch: int) -> tuple[list[str], Callable[[int], str]]:
    side = 1
    while 2 * side * side < batch:
        side += 1
    county = synthetic_county(towns=2, villages_per_side=side)
    grids = county["grids"]
    codes = grids.loc[grids["level"] == "village", "code"].tolist()[:batch]
    extra = {k: county[k] for k in ("checkpoints", "entries", "sites")}
    counts = {"addresses": 800, "checkpoints": 3, "unguarded_entries": 1}

    def sheet(i: int) -> str:
        code = codes[i % len(codes)]
        own = grids.loc[grids["code"] == code].geometry.iloc[0]
        box = shapely.box(*sheet_extent(own.bounds))
        streets = street_layer(
            county["roads"].clip(box),
            county["water"].clip(box),
            county["addresses"].clip(box),
            label_px=SHEET_LABEL_PX,
            focus=own,
        )
        return render_grid_sheet(code, grids, counts=counts, streets=streets, **extra)

    return codes, sheet


def _database_sheets(url: str, batch: int) -> tuple[list[str], Callable[[int], str]]:
    from geogrid.db.engine import create_geogrid_engine
    from geogrid.settings import Settings
    from geogrid.workspace import Workspace
    from geogrid.workspace.sheets import grid_sheet

    workspace = Workspace(create_geogrid_engine(url), Settings(cache_check_interval_s=3600))
    grids = workspace.grids()
    codes = grids.loc[grids["level"] == "village", "code"].tolist()[:batch]

    def sheet(i: int) -> str:
        return grid_sheet(workspace, codes[i % len(codes)])

    return codes, sheet


if __name__ == "__main__":
    main()
