"""How long loading the demo data takes, and rows/s per table.

Runs on a throw-away embedded cluster (or ``--database-url``), loads every demo layer in
one transaction, then loads them again (nothing changes: the idempotent path), and prints
a table per run. Usage::

    .venv/bin/python benchmarks/load.py [--repeats 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from geogrid.db.bootstrap import prepare_database
from geogrid.db.cluster import EmbeddedCluster
from geogrid.db.engine import create_geogrid_engine
from geogrid.ingest.demo import demo_requests
from geogrid.ingest.load import load_files
from geogrid.settings import Settings


def _fresh_database(admin_url: str, name: str, home: Path) -> str:
    conninfo = make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(False)
    prepare_database(Settings(home=home, database_url=url))
    return url


def main() -> None:
    """Print load timings for the demo data."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database-url", help="superuser URL of a PostGIS server to use")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="geogrid-bench-"))
    home.chmod(0o755)
    cluster = None
    try:
        admin = args.database_url
        if admin is None:
            cluster = EmbeddedCluster(home / "pg", port=55434)
            cluster.start()
            admin = cluster.url("postgres")
        first: dict[str, list[float]] = {}
        again: dict[str, list[float]] = {}
        totals, totals_again = [], []
        rows: dict[str, int] = {}
        for repeat in range(args.repeats):
            url = _fresh_database(admin, f"geogrid_bench_{repeat}", home)
            engine = create_geogrid_engine(url)
            for timings, total in ((first, totals), (again, totals_again)):
                started = time.perf_counter()
                reports = load_files(engine, demo_requests())
                total.append(time.perf_counter() - started)
                for report in reports:
                    timings.setdefault(report.layer, []).append(report.seconds)
                    rows[report.layer] = report.rows
            engine.dispose()

        print(f"demo load, median of {args.repeats} runs on a fresh database")
        print(f"{'layer':<18} {'rows':>8} {'first s':>8} {'rows/s':>10} {'reload s':>9}")
        for layer, seconds in first.items():
            median = statistics.median(seconds)
            reload = statistics.median(again[layer])
            print(
                f"{layer:<18} {rows[layer]:>8,} {median:>8.2f} {rows[layer] / median:>10,.0f} "
                f"{reload:>9.2f}"
            )
        print(
            f"{'total':<18} {sum(rows.values()):>8,} {statistics.median(totals):>8.2f} "
            f"{sum(rows.values()) / statistics.median(totals):>10,.0f} "
            f"{statistics.median(totals_again):>9.2f}"
        )
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
