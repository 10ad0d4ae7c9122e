"""Seconds per grid sheet: HTML, PNG and PDF, one at a time and as a batch of children.

Uses a synthetic county (``geogrid.maps.testing``) with 50 villages and prints medians for
two ways of driving headless Chromium side by side:

- reused: one browser under chromedriver, kept open, waiting for each map's ready flag;
- process: one ``chromium --headless`` process per sheet (``--virtual-time-budget``).

The batch is a town's ``--children`` run: every village sheet of the county into one PDF.
Usage::

    .venv/bin/python benchmarks/print.py [--samples 7] [--batch 50] [--no-process-batch]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from geogrid.maps import Printer, print_html_process, render_grid_sheet
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
    args = parser.parse_args()

    side = 1
    while 2 * side * side < args.batch:
        side += 1
    county = synthetic_county(towns=2, villages_per_side=side)
    grids = county["grids"]
    codes = grids.loc[grids["level"] == "village", "code"].tolist()[: args.batch]
    extra = {k: county[k] for k in ("checkpoints", "entries", "sites")}
    counts = {"addresses": 800, "checkpoints": 3, "unguarded_entries": 1}

    def sheet(i: int) -> str:
        return render_grid_sheet(codes[i % len(codes)], grids, counts=counts, **extra)

    out = Path(tempfile.mkdtemp(prefix="geogrid-print-bench-"))
    sheet(0)  # warm caches (inlined Leaflet, imports)
    html_s = _median_s(sheet, args.samples)
    pages = [sheet(i) for i in range(args.samples)]
    rows: list[tuple[str, str, float]] = [("HTML", "-", html_s)]

    started = time.perf_counter()
    printer = Printer()
    start_s = time.perf_counter() - started
    with printer:
        printer.render(pages[0], format="pdf")  # warm the browser
        for fmt in ("png", "pdf"):
            median = _median_s(lambda i, f=fmt: printer.render(pages[i], format=f), args.samples)
            rows.append((fmt.upper(), "reused", median))
        started = time.perf_counter()
        batch_pdf = printer.print_many((sheet(i) for i in range(len(codes))), out / "batch.pdf")
        reused_batch_s = time.perf_counter() - started + start_s
    assert len(PdfReader(batch_pdf).pages) == len(codes)

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

    print(f"grid sheets, A4 portrait, plain basemap; medians of {args.samples} sheets")
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


if __name__ == "__main__":
    main()
