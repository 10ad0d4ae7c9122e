"""Events with deadlines: the overdue scan over 100,000 open events, and a county day of
``POST /open311/v2/requests.json`` under load.

Usage::

    .venv/bin/python benchmarks/events.py [--open 100000] [--seconds 60]
        [--connections 4 8 16] [--workers 2] [--skip-post] [--skip-scan]
        [--runs 5] [--worst-runs 3]

Runs on a private, throw-away PostgreSQL cluster (a temporary folder, its own port) loaded
with the demo county (292 village grids, 900 micro-grids, 1,197 grid workers), so nothing
else on the machine is touched.

1. **Scan.** ``--open`` open hotline events are stored set-based, requested over one day
   and spread over the village grids (deadline 240 min, reminder 60 min before), in the
   state a scanner running every minute leaves at 08:00 (the events due by then already
   reminded or escalated, all still open). The scan
   (:func:`geogrid.workspace.event_actions.scan_deadlines`: reminders, then escalations
   with their log entries and outbox rows, in chunks of ``events_scan_chunk`` events, each
   chunk its own transaction) is timed at four "now"s: the next tick (a minute later: ~70
   reminders, ~70 escalations), a tick with nothing due, a catch-up after 15 minutes
   without a scanner, and the worst case: an outage since the first request, so every
   one of the ``--open`` events is overdue and none escalated yet. Each is run ``--runs``
   times (the worst ``--worst-runs``), what it did undone after each run (and the tables
   vacuumed), so every run sees the same data: the median and the worst run, the number
   of transactions and the longest one are printed.
2. **County day.** ``uvicorn --workers N`` serves the API; ``wrk`` (another process)
   POSTs JSON requests at random points inside the grids of 920 grid workers
   (:func:`worker_points`; an ``app`` key, no Idempotency-Key) with each
   ``--connections`` count for ``--seconds``: requests/s, p50 and p99 (ms), non-2xx
   answers. ``--seconds 60`` at 200 req/s is 12,000 events, the size of a busy county
   day; each is placed in its grid, logged and queued in the outbox.

Prints the load average (as ``uptime``) before each part: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from geogrid.db.bootstrap import prepare_database  # noqa: E402
from geogrid.db.cluster import EmbeddedCluster  # noqa: E402
from geogrid.db.engine import create_geogrid_engine  # noqa: E402
from geogrid.ingest.demo import demo_requests  # noqa: E402
from geogrid.ingest.load import load_files  # noqa: E402
from geogrid.settings import Settings  # noqa: E402
from geogrid.workspace import Workspace  # noqa: E402
from geogrid.workspace.credentials import issue_key  # noqa: E402
from geogrid.workspace.event_actions import ScanOutcome, scan_deadlines  # noqa: E402

PORT = 55491
T0 = datetime(2020, 2, 1, 0, 0, tzinfo=UTC)

FILL = """
INSERT INTO events (service_code, status, placement, requested_at, expected_at,
    deadline_minutes, remind_at, updated_at, agency_code, grid_code, village_code,
    town_code, worker_code, created_by, description, reminded_at, escalation_level,
    escalated_at)
SELECT 'hotline', 'open', 'placed', r, r + interval '240 minutes', 240,
       r + interval '180 minutes', r, v.code, v.code, v.code, v.parent_code, NULL,
       'benchmarks/events.py scan', '',
       CASE WHEN r + interval '180 minutes' <= CAST(:last AS timestamptz) THEN :last END,
       CASE WHEN r + interval '240 minutes' <= CAST(:last AS timestamptz) THEN 1 ELSE 0 END,
       CASE WHEN r + interval '240 minutes' <= CAST(:last AS timestamptz) THEN :last END
FROM generate_series(0, :n - 1) AS i
CROSS JOIN LATERAL (SELECT CAST(:t0 AS timestamptz)
                           + (i % 1440) * interval '1 minute' AS r) AS t
JOIN (SELECT code, parent_code, row_number() OVER (ORDER BY code) - 1 AS k
      FROM grids WHERE level = 'village') AS v
  ON v.k = i % (SELECT count(*) FROM grids WHERE level = 'village')
"""
LAST_SCAN = T0 + timedelta(hours=8)
"""The fill is the state a scanner running every minute leaves at this time: every event
due by then reminded or escalated already."""

LUA = r"""
init = function(args)
  math.randomseed(20200131 + (id or 0))
end
local points = {%(points)s}
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer %(key)s"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local p = points[math.random(#points)]
  local x, y = p[1], p[2]
  local body = string.format(
    '{"service_code": "hotline", "lat": %%.6f, "long": %%.6f, "description": "bench"}', y, x)
  return wrk.format("POST", "/open311/v2/requests.json", nil, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%.1f %%.2f %%.2f %%d %%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.status + e.connect + e.read + e.write + e.timeout,
    summary.requests))
end
"""


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


RESET = (
    "UPDATE events e SET reminded_at = NULL FROM event_log l "
    "WHERE l.id > :log AND l.event_id = e.id AND l.action = 'remind'",
    "UPDATE events e SET escalation_level = 0, escalated_at = NULL, "
    "agency_code = e.village_code, updated_at = e.requested_at FROM event_log l "
    "WHERE l.id > :log AND l.event_id = e.id AND l.action = 'escalate'",
    "DELETE FROM event_log WHERE id > :log",
    "DELETE FROM event_outbox WHERE id > :outbox",
)
"""Undo what a scan did after the watermarks (the log's and the outbox's last ids)."""

NEVER_SCANNED = (
    "UPDATE events SET reminded_at = NULL, escalation_level = 0, escalated_at = NULL, "
    "agency_code = village_code, updated_at = requested_at "
    "WHERE created_by = 'benchmarks/events.py scan'"
)
"""The state after an outage since the first request: no event reminded or escalated."""


def vacuum(engine: Engine) -> None:
    """VACUUM ANALYZE the events' tables (a reset leaves dead rows behind)."""
    with engine.connect() as conn:
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("events", "event_log", "event_outbox"):
            auto.execute(text(f"VACUUM ANALYZE {table}"))


def timed_scans(
    engine: Engine, workspace: Workspace, now: datetime, runs: int
) -> tuple[list[float], ScanOutcome]:
    """Run the scan ``runs`` times at ``now``, undoing it after each; return the seconds
    of each run and the last outcome."""
    times, outcome = [], ScanOutcome(now, 0, 0)
    for _ in range(runs):
        with engine.connect() as conn:
            log_id, outbox_id = conn.execute(
                text(
                    "SELECT (SELECT COALESCE(max(id), 0) FROM event_log), "
                    "(SELECT COALESCE(max(id), 0) FROM event_outbox)"
                )
            ).one()
        started = time.perf_counter()
        outcome = scan_deadlines(workspace, now)
        times.append(time.perf_counter() - started)
        with engine.begin() as conn:
            for statement in RESET:
                conn.execute(text(statement), {"log": log_id, "outbox": outbox_id})
        vacuum(engine)
    return times, outcome


def scan_part(url: str, home: Path, n_open: int, runs: int, worst_runs: int) -> None:
    """Fill ``n_open`` open events and time the scan at four "now"s."""
    engine = create_geogrid_engine(url)
    workspace = Workspace(engine, Settings(home=home, database_url=url))
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(FILL), {"n": n_open, "t0": T0, "last": LAST_SCAN})
    vacuum(engine)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM events WHERE status <> 'closed'")).scalar()
    chunk = workspace.settings.events_scan_chunk
    print(f"stored {total:,} open events in {time.perf_counter() - started:.1f} s")
    print(f"load average: {load_average()}; chunks of {chunk} events, each its own transaction")
    cases = {
        "tick: 1 min after the last": LAST_SCAN + timedelta(minutes=1),
        "tick: nothing due": LAST_SCAN,
        "catch-up: 15 min after the last": LAST_SCAN + timedelta(minutes=15),
        f"worst: all {n_open:,} overdue": T0 + timedelta(days=2),
    }
    print(
        f"{'scan':32} {'runs':>4} {'reminded':>9} {'escalated':>10} {'median ms':>10} "
        f"{'max ms':>8} {'txns':>5} {'longest txn ms':>15}"
    )
    for label, now in cases.items():
        if label.startswith("worst"):  # an outage since the first request: nothing done
            with engine.begin() as conn:
                conn.execute(text(NEVER_SCANNED))
            vacuum(engine)
        count = worst_runs if label.startswith("worst") else runs
        times, done = timed_scans(engine, workspace, now, count)
        print(
            f"{label:32} {count:>4} {done.reminded:>9,} {done.escalated:>10,} "
            f"{statistics.median(times) * 1000:>10.1f} {max(times) * 1000:>8.1f} "
            f"{done.transactions:>5} {done.longest_transaction_s * 1000:>15.1f}"
        )
        print(f"{'':32} load average: {load_average()}")
    with engine.connect() as conn:  # how a chunk of a tick reads the due events
        plan = conn.execute(
            text(
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT id FROM events "
                "WHERE status <> 'closed' AND escalation_level = 0 AND expected_at <= :now "
                "ORDER BY expected_at LIMIT :limit"
            ),
            {"now": LAST_SCAN + timedelta(minutes=1), "limit": chunk},
        ).scalars()
        print("the due events of a tick:", " | ".join(line.strip() for line in plan))
    engine.dispose()


WORKERS = 920
"""The county day's events go to the grids of this many grid workers (the issue's count)."""

WORKER_POINTS = """
WITH chosen AS (
    SELECT w.grid_code FROM grid_workers w JOIN grids g ON g.code = w.grid_code
    WHERE g.level IN ('micro', 'village')
    ORDER BY (g.level = 'village'), w.code COLLATE "C" LIMIT :workers
)
SELECT ST_X(p.geom), ST_Y(p.geom)
FROM chosen c JOIN grids g ON g.code = c.grid_code
CROSS JOIN LATERAL ST_Dump(ST_GeneratePoints(g.geom, :per_grid, 20200131)) AS p
"""


def worker_points(url: str, per_grid: int = 10) -> list[tuple[float, float]]:
    """Return ``per_grid`` seeded random points inside the grid of each of
    :data:`WORKERS` grid workers: the demo's 900 micro-grid workers, then the first 20
    village workers by code (the demo has 1,197 workers: 900 micro, 292 village, 5
    industry). A point is placed in its micro-grid and village and answered by the
    village's worker (geogrid's rule), so the day covers the 920 workers' grids."""
    engine = create_geogrid_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(WORKER_POINTS), {"workers": WORKERS, "per_grid": per_grid})
        points = [(float(x), float(y)) for x, y in rows]
    engine.dispose()
    return points


def warm_up(base: str, key: str, lon: float, lat: float, timeout_s: float = 240) -> None:
    """POST until 20 answers in a row take under 100 ms (both workers' locators built)."""
    body = f'{{"service_code": "hotline", "lat": {lat}, "long": {lon}}}'.encode()
    fast, deadline = 0, time.monotonic() + timeout_s
    while fast < 20 and time.monotonic() < deadline:
        request = urllib.request.Request(
            f"{base}/open311/v2/requests.json",
            data=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()
        fast = fast + 1 if time.perf_counter() - started < 0.1 else 0


def post_part(url: str, home: Path, args: argparse.Namespace) -> None:
    """Serve the API with uvicorn and POST requests with wrk."""
    if shutil.which("wrk") is None:
        print("wrk is missing (apt-get install wrk): the POST part is skipped")
        return
    settings = Settings(home=home, database_url=url)
    workspace = Workspace.open(settings)
    key = issue_key(workspace, "benchmarks/events.py", "app").key
    grids = workspace.grids()
    x0, y0, x1, y1 = grids[grids["level"] == "county"].total_bounds
    points = worker_points(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOGRID_")}
    env |= {"GEOGRID_DATABASE_URL": url, "GEOGRID_HOME": str(home), "PYTHONPATH": str(ROOT)}
    port = PORT + 1
    command = [
        str(Path(sys.executable).with_name("uvicorn")),
        "--factory",
        "geogrid.api.app:create_app",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                probe = urllib.request.Request(
                    f"{base}/locate?lon=120.6&lat=27.6", headers={"Authorization": f"Bearer {key}"}
                )
                with urllib.request.urlopen(probe, timeout=10) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("uvicorn did not come up")
            time.sleep(0.5)
        warm_up(base, key, (x0 + x1) / 2, (y0 + y1) / 2)
        with tempfile.TemporaryDirectory() as folder:
            lua = Path(folder) / "post.lua"
            table = ",".join(f"{{{x:.6f},{y:.6f}}}" for x, y in points)
            lua.write_text(LUA % {"points": table, "key": key})
            print(f"load average: {load_average()}")
            print(
                f"{'POST requests.json':22} {'workers':>7} {'conns':>6} {'req/s':>8} "
                f"{'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'events':>8}"
            )
            for connections in args.connections:
                out = subprocess.run(
                    [
                        "wrk",
                        "-t2",
                        f"-c{connections}",
                        f"-d{args.seconds:g}s",
                        "-s",
                        str(lua),
                        base,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                line = next(x for x in out.splitlines() if x.startswith("RESULT")).split()[1:]
                rate, p50, p99, errors, count = line
                print(
                    f"{'':22} {args.workers:>7} {connections:>6} {float(rate):>8.1f} "
                    f"{float(p50):>8.1f} {float(p99):>8.1f} {int(errors):>7} {int(count):>8,}"
                )
                print(f"{'':22} load average: {load_average()}")
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    engine = create_geogrid_engine(url)
    with engine.connect() as conn:
        placed = conn.execute(
            text(
                "SELECT placement, count(*) FROM events WHERE created_by = 'benchmarks/events.py'"
                " GROUP BY 1 ORDER BY 1"
            )
        ).all()
        reached = conn.execute(
            text(
                "SELECT count(DISTINCT grid_code), count(DISTINCT village_code), "
                "count(DISTINCT worker_code) FROM events WHERE created_by = 'benchmarks/events.py'"
            )
        ).one()
        queued = conn.execute(text("SELECT count(*) FROM event_outbox")).scalar()
    print(f"stored by the POSTs: {dict(placed)}; outbox rows: {queued:,}")
    print(
        f"from {len(points):,} points in the grids of {WORKERS} workers: {reached[0]} grids, "
        f"{reached[1]} villages, {reached[2]} village workers answering"
    )
    engine.dispose()


def main() -> None:
    """Start a private cluster, load the demo county, run the parts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100_000, help="open events to scan")
    parser.add_argument("--runs", type=int, default=5, help="runs of each tick (median)")
    parser.add_argument("--worst-runs", type=int, default=3, help="runs of the worst case")
    parser.add_argument("--skip-scan", action="store_true")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-post", action="store_true")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="geogrid-bench-events-"))
    home.chmod(0o755)
    cluster = EmbeddedCluster(home / "postgres", port=PORT, fast=True)
    try:
        cluster.start()
        admin = make_url(cluster.url("postgres")).set(drivername="postgresql")
        with psycopg.connect(admin.render_as_string(False), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "bench_events"')
        url = cluster.url("bench_events")
        prepare_database(Settings(home=home, database_url=url))
        started = time.perf_counter()
        load_files(create_geogrid_engine(url), demo_requests())
        print(
            f"demo county loaded in {time.perf_counter() - started:.0f} s; {os.cpu_count()} cores"
        )
        if not args.skip_post:
            post_part(url, home, args)
        if not args.skip_scan:
            scan_part(url, home, args.open, args.runs, args.worst_runs)
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
