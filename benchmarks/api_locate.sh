#!/usr/bin/env bash
# Requests/s and latency of GET /locate?lon=&lat= from a second process (wrk, loopback,
# 32 connections, bounded time), for geogrid with 1 and 2 uvicorn workers, beside a
# baseline app that asks PostGIS once per request and a ceiling app (FastAPI parsing the
# same query and returning a fixed answer: what the framework and server alone allow on
# this machine). Random points over the Aojiang town.
#
#   benchmarks/api_locate.sh [seconds per run, default 15]
#
# Uses the configured database (the embedded one unless GEOGRID_DATABASE_URL is set),
# which must hold the demo data: `.venv/bin/geogrid db up && .venv/bin/geogrid load demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-15}
PORT=8790
BIN=.venv/bin
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
$BIN/geogrid db up >/dev/null
# an app key, as the grid workers' app backend would send (revoked on exit)
KEY_NAME="benchmark $$"
KEY=$($BIN/geogrid users add "$KEY_NAME" --role app 2>/dev/null)
AUTH="Authorization: Bearer $KEY"

LUA=$(mktemp --suffix=.lua)
trap 'rm -f "$LUA"; kill $(jobs -p) 2>/dev/null || true; $BIN/geogrid users revoke "$KEY_NAME" >/dev/null 2>&1 || true' EXIT
cat > "$LUA" <<'LUA'
math.randomseed(20200131)
request = function()
  local lon = 120.52 + math.random() * 0.16
  local lat = 27.52 + math.random() * 0.12
  return wrk.format("GET", string.format("/locate?lon=%.6f&lat=%.6f", lon, lat))
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests/s=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA

run() {  # name, workers, uvicorn target and args
  local name=$1 workers=$2; shift 2
  $BIN/uvicorn "$@" --port $PORT --workers "$workers" --log-level warning --no-access-log &
  local pid=$!
  for _ in $(seq 1 120); do curl -sf -H "$AUTH" "localhost:$PORT/locate?lon=120.6&lat=27.6" >/dev/null && break; sleep 0.5; done
  # warm up long enough for every worker to build its indexes (a few seconds each)
  wrk -t2 -c32 -d"${WARM_UP_S:-10}s" -H "$AUTH" -s "$LUA" "http://127.0.0.1:$PORT" >/dev/null
  local line
  line=$(wrk -t2 -c32 -d"${SECONDS_PER_RUN}s" -H "$AUTH" -s "$LUA" "http://127.0.0.1:$PORT" | grep RESULT)
  printf "%-28s workers=%s %s\n" "$name" "$workers" "${line#RESULT }"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "GET /locate, 32 connections, ${SECONDS_PER_RUN}s per run, $(nproc) cores"
run "geogrid (GridIndex)" 1 --factory geogrid.api.app:create_app
run "geogrid (GridIndex)" 2 --factory geogrid.api.app:create_app
run "baseline (PostGIS/request)" 1 --app-dir benchmarks _postgis_locate_app:app
run "baseline (PostGIS/request)" 2 --app-dir benchmarks _postgis_locate_app:app
run "ceiling (FastAPI, fixed)" 1 --app-dir benchmarks _ceiling_app:app
run "ceiling (FastAPI, fixed)" 2 --app-dir benchmarks _ceiling_app:app
