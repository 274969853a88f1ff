#!/usr/bin/env bash
# Builds Release, starts `fleetkey serve` on a fresh data directory on 127.0.0.1, runs the benchmark
# against it and stops the server. Extra arguments go to the benchmark (e.g. --things 20000).
# BENCH_DATABASE=postgres://… runs the server on that (empty) PostgreSQL database instead of SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build Fleetkey.slnx -c Release -nologo -v quiet >/dev/null
dotnet build bench/Fleetkey.Bench -c Release -nologo -v quiet >/dev/null
data=$(mktemp -d)
port=${BENCH_PORT:-15080}
dotnet src/Fleetkey/bin/Release/net10.0/fleetkey.dll serve --data "$data" --http "http://127.0.0.1:$port" \
  --device-http "http://127.0.0.1:$((port + 1))" --mqtt-port 0 ${BENCH_DATABASE:+--database "$BENCH_DATABASE"} >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
dotnet bench/Fleetkey.Bench/bin/Release/net10.0/Fleetkey.Bench.dll --endpoint "http://127.0.0.1:$port" --credentials "$data/credentials" "$@"
