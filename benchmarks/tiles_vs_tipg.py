"""geogrid beside tipg on the same database: feature pages by bbox and vector tiles.

Usage::

    .venv/bin/python benchmarks/tiles_vs_tipg.py [--seconds 10] [--rounds 3]
        [--connections 32] [--threads 2] [--workers 2] [--database-url URL]
        [--tipg-venv /tmp/geogrid-tipg-venv] [--collection grids]

In one run: installs tipg (``pip install tipg uvicorn``) into its own virtualenv under
/tmp when it is not there yet (tipg pins its own FastAPI and pydantic), starts geogrid
and tipg with ``--workers`` uvicorn processes each on loopback against the same
database (the embedded one unless ``--database-url`` or ``GEOGRID_DATABASE_URL`` names
another; the demo data is loaded when the grids are empty), then:

1. checks the answers: for 30 random boxes of about 2 km (0.02°) over the demo county,
   the codes of ``/collections/{c}/items?bbox=..&limit=50`` (tipg: ``sortby=code``)
   are the same list, and ``numberMatched`` the same; for 30 random zoom-14 tiles, the
   tiles hold the same codes (geogrid's tiles also hold the features that reach only
   into the tile's 64-unit buffer; tipg draws a 256-unit buffer but looks for features
   in the tile alone);
2. drives each server with ``wrk`` (``--connections``, ``--threads``), each request a
   new random box (items; tipg in its default order, faster than with ``sortby``) or the
   zoom-14 tile under a new random point (tiles), for
   ``--seconds``, ``--rounds`` times in turn (geogrid, tipg, geogrid, ...), and prints
   each round and the median req/s of each, their ratio, and the load average; and the
   CPU time the server's processes and the PostgreSQL cluster used per request (read
   from ``/proc``: on a shared machine req/s follow the other work, CPU per request
   hardly; the ratio of tipg's to geogrid's is the req/s ratio a machine doing nothing
   else would show, give or take wrk's share).

geogrid keeps the tiles it served in memory until their layer changes
(``GEOGRID_TILE_CACHE_MB``, 64 per layer and worker): the random tiles of this run repeat,
so most are answered from memory; ``GEOGRID_TILE_CACHE_MB=0`` measures PostGIS building
every tile, as tipg does.

geogrid is called with an ``app`` API key issued for the run (revoked at its end); tipg
has no access control. tipg answers every column of the table, geogrid the public ones.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import mapbox_vector_tile  # noqa: E402
import shapely  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.api_load import county_box, load_average  # noqa: E402
from geogrid.db.bootstrap import prepare_database  # noqa: E402
from geogrid.settings import Settings  # noqa: E402
from geogrid.workspace import Workspace  # noqa: E402
from geogrid.workspace.credentials import issue_key, revoke_key  # noqa: E402

ZOOM = 14
BOX_DEG = 0.02
LIMIT = 50

LUA = r"""
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end
init = function(args)
  math.randomseed(20200131 + (id or 0))
end
local x0, y0, x1, y1 = %(x0)f, %(y0)f, %(x1)f, %(y1)f
local prefix = "%(prefix)s"
local kind = "%(kind)s"
local extra = "%(extra)s"
local z = %(zoom)d
if "%(key)s" ~= "" then
  wrk.headers["Authorization"] = "Bearer %(key)s"
end
request = function()
  local x = x0 + math.random() * (x1 - x0)
  local y = y0 + math.random() * (y1 - y0)
  if kind == "tiles" then
    local n = 2 ^ z
    local col = math.floor((x + 180) / 360 * n)
    local r = math.rad(y)
    local row = math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
    return wrk.format("GET",
      string.format("%%s/tiles/WebMercatorQuad/%%d/%%d/%%d", prefix, z, col, row))
  end
  return wrk.format("GET",
    string.format("%%s/items?bbox=%%.5f,%%.5f,%%.5f,%%.5f&limit=%(limit)d%%s",
      prefix, x, y, x + %(box)f, y + %(box)f, extra))
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%.1f %%.2f %%.2f %%d %%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.status + e.connect + e.read + e.write + e.timeout,
    summary.requests))
end
"""


def tipg_python(venv: Path) -> Path:
    """Return the Python of a virtualenv holding tipg, creating it when needed."""
    python = venv / "bin" / "python"
    if (
        not (venv / "bin" / "uvicorn").exists()
        or subprocess.run(
            [str(python), "-c", "import tipg"], capture_output=True, check=False
        ).returncode
    ):
        print(f"installing tipg into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "tipg", "uvicorn"], check=True)
    version = subprocess.run(
        [str(python), "-c", "import tipg; print(tipg.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"tipg {version} in {venv}")
    return python


def asyncpg_dsn(url: str) -> str:
    """Return a plain ``postgresql://`` DSN of a SQLAlchemy URL (a Unix socket folder given
    as ``?host=`` becomes the percent-encoded host, which asyncpg and pydantic accept)."""
    parsed = make_url(url)
    host = parsed.query.get("host") or parsed.host or "localhost"
    host = host if isinstance(host, str) else host[0]
    port = parsed.query.get("port") or parsed.port or 5432
    port = port if isinstance(port, str | int) else port[0]
    user = quote(parsed.username or "postgres", safe="")
    secret = f":{quote(parsed.password, safe='')}" if parsed.password else ""
    return f"postgresql://{user}{secret}@{quote(host, safe='')}:{port}/{parsed.database}"


def get(url: str, key: str = "") -> tuple[int, bytes]:
    """GET a URL; return the status and the body."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def tree_cpu(root: int) -> float:
    """Return the CPU seconds (user and system) a process and its descendants used so far,
    the children it has already reaped included (Linux ``/proc``)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(v) for v in fields[11:15]) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


@contextmanager
def server(command: list[str], env: dict[str, str], probe: str, key: str = "") -> Iterator[int]:
    """Run a uvicorn command until the block ends; wait until ``probe`` answers 200;
    yield its process id."""
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 240
        while get(probe, key)[0] != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{command[0]} did not come up: {probe}")
            time.sleep(0.5)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def uvicorn(python: Path, app: str, port: int, workers: int, factory: bool = False) -> list[str]:
    """Return the command that serves ``app`` with ``workers`` processes on loopback."""
    return [
        str(python.with_name("uvicorn")),
        *(["--factory"] if factory else []),
        app,
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


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Return the column and row of the WebMercatorQuad tile under a point."""
    import math

    n = 2**z
    rad = math.radians(lat)
    row = int((1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * n)
    return int((lon + 180) / 360 * n), row


def tile_codes(body: bytes) -> tuple[set[str], set[str]]:
    """Return the codes of every feature of a tile (any layer), and of those that lie in
    the tile's buffer only (outside the tile itself, or on its edge)."""
    if not body:
        return set(), set()
    square = shapely.box(0, 0, 4096, 4096)
    codes, buffer_only = set(), set()
    for layer in mapbox_vector_tile.decode(body).values():
        for feature in layer["features"]:
            code = str(feature["properties"]["code"])
            codes.add(code)
            shape = shapely.geometry.shape(feature["geometry"])
            inside = shape.intersection(square)
            if inside.is_empty or (shape.area > 0 and inside.area == 0):
                buffer_only.add(code)
    return codes, buffer_only


def check_answers(
    ours: str, theirs: str, collection: str, box: tuple[float, ...], key: str, n: int = 30
) -> None:
    """Compare the features both servers answer for the same boxes and tiles."""
    rng = random.Random(20200131)
    x0, y0, x1, y1 = box
    same_pages = same_tiles = features = tiled = buffered = 0
    for _ in range(n):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        bbox = f"{x:.5f},{y:.5f},{x + BOX_DEG:.5f},{y + BOX_DEG:.5f}"
        query = f"items?bbox={bbox}&limit={LIMIT}"
        _, a = get(f"{ours}/collections/{collection}/{query}", key)
        _, b = get(f"{theirs}/collections/public.{collection}/{query}&sortby=code")
        pa, pb = json.loads(a), json.loads(b)
        codes_a = [f["id"] for f in pa["features"]]
        codes_b = [f["properties"]["code"] for f in pb["features"]]
        features += len(codes_a)
        if codes_a == codes_b and pa["numberMatched"] == pb["numberMatched"]:
            same_pages += 1
        else:
            print(f"  items differ for bbox={bbox}: {codes_a[:3]}... vs {codes_b[:3]}...")
        col, row = tile_of(x, y, ZOOM)
        tile = f"tiles/WebMercatorQuad/{ZOOM}/{col}/{row}"
        ta, edge = tile_codes(get(f"{ours}/collections/{collection}/{tile}", key)[1])
        tb, _ = tile_codes(get(f"{theirs}/collections/public.{collection}/{tile}")[1])
        tiled += len(ta)
        if ta - edge <= tb <= ta:
            same_tiles += 1
            buffered += len(ta - tb)
        else:
            print(f"  tile {tile} differs: {sorted(ta ^ tb)[:5]}")
    print(
        f"same features: {same_pages}/{n} pages ({features} features); {same_tiles}/{n} tiles "
        f"({tiled} features; {buffered} of geogrid's lie only in the tile's 64-unit buffer, "
        "where tipg looks for none)",
        flush=True,
    )


def drive(base: str, script: Path, seconds: float, connections: int, threads: int) -> list[str]:
    """Run wrk; return req/s, p50 ms, p99 ms, errors and requests."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script)]
    out = subprocess.run([*command, base], capture_output=True, text=True, check=True).stdout
    return next(line for line in out.splitlines() if line.startswith("RESULT")).split()[1:]


def main() -> None:
    """Install and start both servers, check their answers, load them, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--tipg-venv", type=Path, default=Path("/tmp/geogrid-tipg-venv"))
    parser.add_argument("--collection", default="grids")
    parser.add_argument("--port", type=int, default=8795, help="geogrid's; tipg's is the next")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    python = tipg_python(args.tipg_venv)
    env = dict(os.environ)
    if args.database_url:
        env["GEOGRID_DATABASE_URL"] = args.database_url
    settings = Settings(database_url=env.get("GEOGRID_DATABASE_URL") or None)
    prepare_database(settings)
    workspace = Workspace.open(settings)
    if workspace.grids().empty:
        from geogrid.ingest.demo import demo_requests
        from geogrid.ingest.load import load_files

        load_files(workspace.engine, demo_requests())
    box = county_box(workspace)
    url = workspace.engine.url.render_as_string(hide_password=False)
    with workspace.engine.connect() as conn:  # the cluster's postmaster: a backend's parent
        backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    postmaster = int(Path(f"/proc/{backend}/stat").read_text().rpartition(")")[2].split()[1])
    tipg_env = {
        **os.environ,
        "DATABASE_URL": asyncpg_dsn(url),
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": json.dumps([f"public.{args.collection}"]),
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    key = issue_key(workspace, "benchmarks/tiles_vs_tipg.py", "app").key
    ours, theirs = f"http://127.0.0.1:{args.port}", f"http://127.0.0.1:{args.port + 1}"
    geogrid_cmd = uvicorn(
        Path(sys.executable), "geogrid.api.app:create_app", args.port, args.workers, True
    )
    tipg_cmd = uvicorn(python, "tipg.main:app", args.port + 1, args.workers)
    probe_ours = f"{ours}/collections/{args.collection}/items?limit=1"
    probe_theirs = f"{theirs}/collections/public.{args.collection}/items?limit=1"
    print(
        f"{args.workers} workers each, {args.connections} connections, {args.threads} wrk "
        f"threads, {args.seconds:g} s x {args.rounds} rounds; {os.cpu_count()} cores; "
        f"boxes of {BOX_DEG}° (limit {LIMIT}) and zoom-{ZOOM} tiles over "
        f"{', '.join(f'{v:.3f}' for v in box)}; load average before: {load_average()}"
    )
    rates: dict[tuple[str, str], list[float]] = {}
    costs: dict[tuple[str, str], list[float]] = {}
    try:
        with (
            server(geogrid_cmd, env, probe_ours, key) as ours_pid,
            server(tipg_cmd, tipg_env, probe_theirs) as theirs_pid,
            tempfile.TemporaryDirectory() as folder,
        ):
            check_answers(ours, theirs, args.collection, box, key)
            targets = {
                "geogrid": (ours, f"/collections/{args.collection}", key, "", ours_pid),
                # tipg in its own order (faster than sortby=code, which the check uses)
                "tipg": (theirs, f"/collections/public.{args.collection}", "", "", theirs_pid),
            }
            print(
                f"{'endpoint':8} {'server':8} {'round':>5} {'req/s':>8} {'p50 ms':>8}"
                f" {'p99 ms':>8} {'errors':>6} {'CPU ms/req':>10}"
            )
            for kind in ("items", "tiles"):
                for round_ in range(1, args.rounds + 1):
                    for name, (base, prefix, token, extra, pid) in targets.items():
                        script = Path(folder) / f"{name}-{kind}.lua"
                        fields = dict(zip(("x0", "y0", "x1", "y1"), box, strict=True))
                        script.write_text(
                            LUA
                            % {
                                **fields,
                                "prefix": prefix,
                                "kind": kind,
                                "key": token,
                                "extra": extra,
                                "zoom": ZOOM,
                                "limit": LIMIT,
                                "box": BOX_DEG,
                            }
                        )
                        if round_ == 1:
                            drive(base, script, 2, args.connections, args.threads)  # warm up
                        cpu = tree_cpu(pid) + tree_cpu(postmaster)
                        rps, p50, p99, errors, requests = drive(
                            base, script, args.seconds, args.connections, args.threads
                        )
                        # the server's and PostgreSQL's CPU per request: unlike req/s, it
                        # hardly depends on what else the machine runs
                        used = tree_cpu(pid) + tree_cpu(postmaster) - cpu
                        cost = 1000 * used / max(int(requests), 1)
                        rates.setdefault((kind, name), []).append(float(rps))
                        costs.setdefault((kind, name), []).append(cost)
                        print(
                            f"{kind:8} {name:8} {round_:>5} {rps:>8} {p50:>8} {p99:>8} {errors:>6}"
                            f" {cost:>10.2f}",
                            flush=True,
                        )
    finally:
        revoke_key(workspace, key)
    print(f"medians (load average after: {load_average()}):")
    for kind in ("items", "tiles"):
        ours_rps = statistics.median(rates[(kind, "geogrid")])
        theirs_rps = statistics.median(rates[(kind, "tipg")])
        ours_cpu = statistics.median(costs[(kind, "geogrid")])
        theirs_cpu = statistics.median(costs[(kind, "tipg")])
        print(
            f"  {kind}: geogrid {ours_rps:.1f} req/s, tipg {theirs_rps:.1f} req/s, "
            f"ratio {ours_rps / theirs_rps:.2f}x; CPU per request (server and PostgreSQL) "
            f"geogrid {ours_cpu:.2f} ms, tipg {theirs_cpu:.2f} ms, "
            f"tipg/geogrid {theirs_cpu / ours_cpu:.2f}x"
        )


if __name__ == "__main__":
    main()
