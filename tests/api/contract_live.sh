#!/usr/bin/env bash
# The schemathesis CLI against a live server, every role, all checks and all phases, judged
# by the repository's schemathesis.toml (the rules the in-process harness reads too).
#
# A fresh embedded PostGIS in its own home gets the demo data (one waiting household in six,
# as tests/api/test_contract.py keeps), one key per role, and `geogrid serve`; each role's
# run writes its report under the home and prints one line: requests the server answered,
# failures and errors. Exits non-zero if any role has a failure or an error.
#
# Environment: CONTRACT_HOME (default /tmp/geogrid-contract-live, emptied first),
# CONTRACT_PORT (8795), CONTRACT_EXAMPLES (3: --max-examples), CONTRACT_WORKERS (2: server
# processes), CONTRACT_ROLES (all six), BIN (the virtualenv's bin directory).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$repo/.venv/bin}
home=${CONTRACT_HOME:-/tmp/geogrid-contract-live}
port=${CONTRACT_PORT:-8795}
examples=${CONTRACT_EXAMPLES:-3}
workers=${CONTRACT_WORKERS:-2}
roles=${CONTRACT_ROLES:-anonymous app grid_worker planner dispatcher admin}
worker_grid=330326-101-022 # DEMO_WORKER_GRID of tests/conftest.py

export GEOGRID_HOME=$home PYTHONPATH=$repo${PYTHONPATH:+:$PYTHONPATH}
geogrid() { "$bin/geogrid" "$@"; }

[ -d "$home" ] && geogrid db down >/dev/null 2>&1 || true
rm -rf "$home" && mkdir -p "$home/run"
geogrid db up >/dev/null
geogrid load demo >/dev/null
psql -q "$(geogrid db url --libpq)" \
  -c "UPDATE transfer_requests SET status = 'moved' WHERE id % 6 <> 0"
for role in $roles; do
  [ "$role" = anonymous ] && continue
  grid=()
  [ "$role" = grid_worker ] && grid=(--grid "$worker_grid")
  geogrid users add "contract $role" --role "$role" "${grid[@]}" 2>/dev/null | grep '^gg_' >"$home/key_$role"
done

"$bin/geogrid" serve --port "$port" --workers "$workers" >"$home/server.log" 2>&1 &
server=$!
stop() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  geogrid db down >/dev/null 2>&1 || true
}
trap stop EXIT
for _ in $(seq 240); do
  curl -sf "http://localhost:$port/health" >/dev/null && break
  sleep 1
done

status=0
cd "$home/run" # schemathesis writes .schemathesis/ where it runs
for role in $roles; do
  auth=()
  [ "$role" != anonymous ] && auth=(-H "Authorization: Bearer $(cat "$home/key_$role")")
  before=$(grep -c '"request_id"' "$home/server.log" || true)
  started=$(date +%s)
  "$bin/schemathesis" --config-file "$repo/schemathesis.toml" run \
    "http://localhost:$port/openapi.json" "${auth[@]}" --checks all \
    --phases examples,coverage,fuzzing,stateful --max-examples "$examples" --seed 4242 \
    --no-color >"$home/$role.txt" 2>&1 || status=1
  after=$(grep -c '"request_id"' "$home/server.log" || true)
  summary=$(grep -E '^=+ .* in [0-9.]+s =+$' "$home/$role.txt" | tail -1)
  count() { echo "$summary" | grep -oE "[0-9]+ $1" | grep -oE '[0-9]+' || echo 0; }
  [ -n "$summary" ] || status=1
  printf '%-12s %6d requests %5d s  %s failures  %s errors  (load average %s)\n' "$role" \
    $((after - before)) $(($(date +%s) - started)) "$(count failure)" "$(count error)" \
    "$(uptime | sed 's/.*average: //')"
done
[ $status = 0 ] || echo "reports: $home/<role>.txt"
exit $status
