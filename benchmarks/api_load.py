"""Requests/s and latency of the geo API under load, from a second process (wrk).

Usage::

    .venv/bin/python benchmarks/api_load.py [--seconds 10] [--connections 32]
        [--workers 1 2] [--database-url URL] [--port 8791]
        [--scenario throughput|stalls|edits]

For each worker count, starts ``uvicorn --factory geogrid.api.app:create_app`` on
loopback, waits until the indexes are warm, and drives each endpoint with ``wrk`` (a
separate process, a Lua script varying the URL of every request) for a bounded time:

- ``GET /locate?lon=&lat=``: random points over the demo county's bounding box;
- ``GET /locate?address=``: random texts of the hand-written set
  ``tests/data/address_eval.csv`` (chatter, typos, places outside the county...);
- ``GET /collections/grids/items?bbox=&limit=50``: random boxes of about 2 km inside it
  (skipped, with a message, when the server has no such route), plain and again with
  ``Accept-Encoding: gzip`` (compression costs CPU here and saves bytes on a real network).

Printed per endpoint and worker count: requests/s, p50 and p99 latency (ms), the
count of non-2xx answers or socket errors, and the mean size of an answer on the wire.
The database is the embedded one (started if needed) unless ``--database-url`` or
``GEOGRID_DATABASE_URL`` names another; it must hold the demo data (``geogrid load
demo``). The requests carry an ``app`` API key issued for the run and revoked at its end.

``--scenario stalls`` (one worker): does a big request stall the others? ``GET /health``
is asked over and over on its own connection (one at a time) while, in turn, nothing
else runs (quiet), 1,000,000-row CSV batches and 500,000-row JSON batches are sent
back to back for ``--seconds`` (each refused with 413: the time to the 413 is printed),
and while one 100,000-row CSV batch is parsed, located and answered. Printed: /health
p50/p99/max in each phase (target: p99 < 100 ms) and the batch times.

``--scenario edits`` (one worker): once the server answers an address (its warm-up has
built every index), ``GET /locate`` is driven in discarded 3-second rounds until two in a
row agree within 10 % on requests/s; then under ``--connections`` with wrk for
``--seconds`` quiet, then again while a ``planner`` key edits grids once per second,
each edit a version bump the indexes follow. ``--edit border`` (the default) moves the
border between two sibling micro-grids, one ``POST /collections/grids/edits`` that
gives a disk of about 50 m round a point of their border to the first and then back
(two geometries changed per edit, the tiling kept); ``--edit rename`` PATCHes one
micro-grid's name with its stored geometry (the geometry does not change: the edit
measured before the indexes were updated in place). The grids are restored at the end.
Two edits before the first run warm the edit path (their times are printed).
``--rounds N`` alternates the quiet and the edit runs N times on the same server and
prints the median ratio (a shared machine's p99 swings from run to run).
``--edit-via other`` sends the edits to a second server (one worker, port + 1): the
measured one only follows them (LISTEN/NOTIFY), as the other workers of a deployment do.
Servers make edits and index updates in their helper process (the default); run with
``GEOGRID_HELPER_PROCESS=false`` in the environment for the same figures without it.
Printed: p50/p99 of both runs and their ratio (target: p99 during edits < 2× quiet),
and how long the edits took.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import shapely.geometry

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._stalls import (  # noqa: E402
    Prober,
    csv_points,
    edit_once_per_second,
    json_points,
    move_border_once_per_second,
    percentiles,
    upload,
)
from geogrid.db.bootstrap import prepare_database  # noqa: E402
from geogrid.settings import Settings  # noqa: E402
from geogrid.workspace import Workspace  # noqa: E402
from geogrid.workspace.credentials import issue_key, revoke_key  # noqa: E402

ITEMS = "/collections/{collection_id}/items"
WARM_PATHS = [
    "/locate?lon=120.6&lat=27.6",
    "/locate?" + urllib.parse.urlencode({"address": "平阳县鳌江镇曾山村车站路190号"}),
]

LUA = r"""
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end
init = function(args)
  math.randomseed(20200131 + (id or 0))  -- repeatable, and different in every thread
end
local x0, y0, x1, y1 = %(x0)f, %(y0)f, %(x1)f, %(y1)f
local kind = "%(kind)s"
local paths = {%(paths)s}
wrk.headers["Authorization"] = "Bearer %(key)s"
if kind == "items-gzip" then
  wrk.headers["Accept-Encoding"] = "gzip"
end
request = function()
  local x = x0 + math.random() * (x1 - x0)
  local y = y0 + math.random() * (y1 - y0)
  if kind == "address" then
    return wrk.format("GET", paths[math.random(#paths)])
  end
  if kind == "locate" then
    return wrk.format("GET", string.format("/locate?lon=%%.6f&lat=%%.6f", x, y))
  end
  return wrk.format("GET", string.format(
    "/collections/grids/items?bbox=%%.5f,%%.5f,%%.5f,%%.5f&limit=50", x, y, x + 0.02, y + 0.02))
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%.1f %%.2f %%.2f %%d %%.1f\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.status + e.connect + e.read + e.write + e.timeout,
    summary.bytes / math.max(summary.requests, 1) / 1000))
end
"""


def address_paths() -> str:
    """The hand-written addresses as a Lua list of ``/locate?address=`` paths."""
    with (ROOT / "tests" / "data" / "address_eval.csv").open(encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    return ", ".join(json.dumps("/locate?" + urllib.parse.urlencode({"address": t})) for t in texts)


Bbox = tuple[float, float, float, float]


def county_box(workspace: Workspace) -> Bbox:
    """Return the bounding box (WGS 84) of the county-level grids."""
    grids = workspace.grids()
    county = grids[grids["level"] == "county"]
    x0, y0, x1, y1 = (county if len(county) else grids).total_bounds
    return float(x0), float(y0), float(x1), float(y1)


def _get(url: str, key: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


@contextmanager
def serve(workers: int, port: int, env: dict[str, str], key: str) -> Iterator[str]:
    """Run uvicorn with ``workers`` processes; yield its base URL once it answers a point
    and an address (every index built)."""
    command = [
        str(Path(sys.executable).with_name("uvicorn")),
        "--factory",
        "geogrid.api.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        # a point answers from the points-only index while the warm-up thread still builds
        # the full one (the address matcher, seconds of CPU): an address waits for it
        for path in WARM_PATHS:
            while _get(f"{base}{path}", key)[0] != 200:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"uvicorn did not come up on {base}")
                time.sleep(0.5)
        time.sleep(1)  # the warm-up thread freezes the garbage collector after the build
        yield base
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def drive(base: str, lua: Path, seconds: float, connections: int, threads: int) -> list[str]:
    """Run wrk against ``base`` and return its RESULT fields."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "-s", str(lua), base]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    return line.split()[1:]


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _phase(label: str, latencies: list[float], extra: str = "") -> None:
    p50, p99, worst = percentiles(latencies)
    print(
        f"{label:44} {len(latencies):>6} {p50:>8.1f} {p99:>8.1f} {worst:>8.1f}  {extra}",
        flush=True,
    )


def run_stalls(args: argparse.Namespace, env: dict[str, str], key: str, box: Bbox) -> None:
    """Measure /health while big batches are refused and while one is processed."""
    refused_csv = csv_points(1_000_000, box)
    refused_json = json_points(500_000, box)
    processed = csv_points(100_000, box)
    print(
        f"bodies: 1,000,000-row CSV {len(refused_csv) / 1e6:.1f} MB, 500,000-row JSON "
        f"{len(refused_json) / 1e6:.1f} MB, 100,000-row CSV {len(processed) / 1e6:.1f} MB; "
        f"load average {load_average()}"
    )
    print(f"{'/health while':44} {'probes':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  batch")
    with serve(1, args.port, env, key) as base, Prober(base, key).running() as prober:
        time.sleep(1)
        start = time.perf_counter()
        time.sleep(args.seconds)
        _phase("nothing else runs", prober.between(start, time.perf_counter()))
        for label, kind, body in (
            ("1,000,000-row CSV batches are refused", "text/csv", refused_csv),
            ("500,000-row JSON batches are refused", "application/json", refused_json),
        ):
            start = time.perf_counter()
            answers = []
            while time.perf_counter() - start < args.seconds:
                answers.append(upload(base, key, "/locate/batch", kind, body))
            end = time.perf_counter()
            to_413 = sorted(a.seconds_to_answer for a in answers)
            statuses = sorted({a.status for a in answers})
            sent = max(a.sent_bytes for a in answers) / 1e6
            _phase(
                label,
                prober.between(start, end),
                f"{len(answers)} sent, status {statuses}, 413 after median "
                f"{to_413[len(to_413) // 2] * 1e3:.0f} ms (max {to_413[-1] * 1e3:.0f} ms), "
                f"at most {sent:.1f} MB sent",
            )
        start = time.perf_counter()
        done = upload(base, key, "/locate/batch", "text/csv", processed)
        end = time.perf_counter()
        _phase(
            "a 100,000-row CSV batch is processed",
            prober.between(start, end),
            f"status {done.status}, answered in {done.seconds_total:.1f} s",
        )
        print(f"/health failures: {prober.failures}; load average {load_average()}")


def warm_up(base: str, lua: Path, args: argparse.Namespace, rounds: int = 8) -> None:
    """Drive ``base`` in discarded 3-second rounds until two in a row answer within 10 %
    of each other's requests/s (at most ``rounds``); print each round."""
    last = 0.0
    for k in range(1, rounds + 1):
        rps, _, p99, errors, _ = drive(base, lua, 3, args.connections, args.threads)
        print(f"{f'warm-up round {k} (discarded)':40} {rps:>9} {'':>8} {p99:>8} {errors:>7}")
        if last and abs(float(rps) - last) <= 0.1 * max(float(rps), last):
            return
        last = float(rps)
    print(f"throughput did not settle in {rounds} warm-up rounds")


def border_move(grids: gpd.GeoDataFrame, code: str) -> tuple[tuple[dict, dict], tuple[dict, dict]]:
    """Return micro-grid ``code`` and a sibling sharing a border with it, as GeoJSON
    features with ``id``, and their geometries once a disk of about 50 m round a point
    of that border is given to the first (both kept valid: the tiling is unchanged)."""
    frame = grids.set_index("code")
    first = frame.loc[code]
    siblings = frame[(frame["level"] == "micro") & (frame["parent_code"] == first["parent_code"])]
    shared = {
        other: first.geom.boundary.intersection(row.geom.boundary)
        for other, row in siblings.iterrows()
        if other != code
    }
    other = max(shared, key=lambda c: shared[c].length)
    border = shared[other]
    disk = border.interpolate(0.5, normalized=True).buffer(0.0005)
    second = frame.loc[other]
    taken = second.geom.intersection(disk)
    moved = (
        shapely.make_valid(first.geom.union(taken)),
        shapely.make_valid(second.geom.difference(taken)),
    )

    def feature(grid_code: str, row: pd.Series) -> dict:
        properties = {k: _plain(row[k]) for k in ("name", "level", "parent_code")}
        geometry = shapely.geometry.mapping(row.geom)
        return {"type": "Feature", "id": grid_code, "geometry": geometry, "properties": properties}

    pair = (feature(code, first), feature(other, second))
    return pair, tuple(shapely.geometry.mapping(g) for g in moved)  # type: ignore[return-value]


def _plain(value: object) -> object:
    return None if isinstance(value, float) and value != value else value


def run_edits(
    args: argparse.Namespace, env: dict[str, str], key: str, box: Bbox, workspace: Workspace
) -> None:
    """Measure /locate p99 quiet and while one grid is edited once per second."""
    grids = workspace.grids()
    code = str(grids.loc[grids["level"] == "micro", "code"].sort_values().iloc[0])
    planner = issue_key(workspace, "benchmarks/api_load.py edits", "planner").key
    if args.edit == "border":
        pair, moved = border_move(grids, code)
        edited = f"the border of {pair[0]['id']} and {pair[1]['id']}"
    else:
        edited = f"the name of {code}"
    print(
        f"{args.connections} connections, {args.seconds:g} s per run, editing {edited}; "
        f"load average {load_average()}"
    )
    print(f"{'GET /locate while':40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    try:
        with contextlib.ExitStack() as stack:
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            base = stack.enter_context(serve(1, args.port, env, key))
            editing = base
            if args.edit_via == "other":
                editing = stack.enter_context(serve(1, args.port + 1, env, key))
            lua = Path(folder) / "locate.lua"
            fields = dict(zip(("x0", "y0", "x1", "y1"), box, strict=True))
            lua.write_text(LUA % {**fields, "kind": "locate", "key": key, "paths": ""})
            warm_up(base, lua, args)
            if args.edit == "border":  # the edit path's first run (imports, caches), apart
                times, _ = move_border_once_per_second(editing, planner, pair, moved, 2)
                print(f"first edits (discarded): {', '.join(f'{t * 1000:.0f}' for t in times)} ms")
            ratios, answered = [], []
            for _ in range(args.rounds):
                rps, p50, p99_quiet, errors, _ = drive(
                    base, lua, args.seconds, args.connections, args.threads
                )
                print(f"{'nothing else runs':40} {rps:>9} {p50:>8} {p99_quiet:>8} {errors:>7}")
                edits: list[tuple[list[float], list[int]]] = []

                def edit(into: list[tuple[list[float], list[int]]] = edits) -> None:
                    if args.edit == "border":
                        into.append(
                            move_border_once_per_second(editing, planner, pair, moved, args.seconds)
                        )
                    else:
                        into.append(edit_once_per_second(editing, planner, code, args.seconds))

                editor = threading.Thread(target=edit)
                editor.start()
                rps, p50, p99_edits, errors, _ = drive(
                    base, lua, args.seconds, args.connections, args.threads
                )
                editor.join()
                print(f"{'one edit per second':40} {rps:>9} {p50:>8} {p99_edits:>8} {errors:>7}")
                times, statuses = edits[0]
                p50_edit, p99_edit, _ = percentiles(times)
                ratios.append(float(p99_edits) / float(p99_quiet))
                answered.append(p50_edit)
                print(
                    f"p99 ratio edits/quiet: {ratios[-1]:.2f}; "
                    f"{len(times)} edits, status {sorted(set(statuses))}, each answered in "
                    f"median {p50_edit:.0f} ms (max {p99_edit:.0f} ms, the new index in "
                    f"place); load average {load_average()}"
                )
            if args.rounds > 1:
                print(
                    f"median of {args.rounds} rounds: p99 ratio edits/quiet "
                    f"{statistics.median(ratios):.2f} "
                    f"({', '.join(f'{r:.2f}' for r in ratios)}); edits answered in "
                    f"{statistics.median(answered):.0f} ms"
                )
    finally:
        revoke_key(workspace, planner)


def main() -> None:
    """Parse the arguments, run every endpoint × worker count, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument(
        "--scenario", choices=["throughput", "stalls", "edits"], default="throughput"
    )
    parser.add_argument(
        "--edit",
        choices=["border", "rename"],
        default="border",
        help="edits scenario: move a border between two micro-grids, or rename one",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="edits scenario: quiet and edit runs alternated this many times (a median)",
    )
    parser.add_argument(
        "--edit-via",
        choices=["same", "other"],
        default="same",
        help="edits scenario: send the edits to the measured server, or to a second one "
        "(the measured server then learns of each edit by LISTEN/NOTIFY)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    env = dict(os.environ)
    if args.database_url:
        env["GEOGRID_DATABASE_URL"] = args.database_url
    settings = Settings(database_url=env.get("GEOGRID_DATABASE_URL") or None)
    prepare_database(settings)
    workspace = Workspace.open(settings)
    box = county_box(workspace)
    key = issue_key(workspace, "benchmarks/api_load.py", "app").key
    if args.scenario != "throughput":
        try:
            if args.scenario == "stalls":
                run_stalls(args, env, key, box)
            else:
                run_edits(args, env, key, box, workspace)
        finally:
            revoke_key(workspace, key)
        return
    print(
        f"{args.connections} connections, {args.seconds:g} s per run, {os.cpu_count()} cores; "
        f"points and boxes over {', '.join(f'{v:.3f}' for v in box)}"
    )
    print(
        f"{'endpoint':34} {'workers':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        f" {'kB/answer':>9}"
    )
    try:
        with tempfile.TemporaryDirectory() as folder:
            for workers in args.workers:
                with serve(workers, args.port, env, key) as base:
                    _, schema = _get(f"{base}/openapi.json", key)
                    kinds = {
                        "locate": "GET /locate?lon=&lat=",
                        "address": "GET /locate?address=",
                    }
                    if ITEMS in json.loads(schema or b"{}").get("paths", {}):
                        kinds["items"] = "GET /collections/grids/items"
                        kinds["items-gzip"] = "  the same, Accept-Encoding: gzip"
                    else:
                        print(f"skipped: {ITEMS} is not served by this version of geogrid")
                    for kind, label in kinds.items():
                        lua = Path(folder) / f"{kind}.lua"
                        fields = dict(zip(("x0", "y0", "x1", "y1"), box, strict=True))
                        paths = address_paths() if kind == "address" else ""
                        lua.write_text(LUA % {**fields, "kind": kind, "key": key, "paths": paths})
                        drive(base, lua, 2, args.connections, args.threads)  # warm every worker
                        rps, p50, p99, errors, kb = drive(
                            base, lua, args.seconds, args.connections, args.threads
                        )
                        print(
                            f"{label:34} {workers:>7} {rps:>9} {p50:>8} {p99:>8} {errors:>7}"
                            f" {kb:>9}"
                        )
    finally:
        revoke_key(workspace, key)


if __name__ == "__main__":
    main()
