#!/usr/bin/env bash
# The full benchmark in one command: builds Release (the bench builds the server with it), starts
# `fleetkey serve` on a fresh data directory and loopback ports, fills a 1,000,000-thing registry
# with `fleetkey import`, measures the crypto ceilings and every scenario (64 in flight, 5 s warm-up,
# 60 s each), stops the server with SIGTERM and prints the Markdown table. Extra arguments go to the
# bench (e.g. --device-key-algorithm ec-p256, --scenarios seed-register --devices 2000, --json out.json;
# --help lists them). BENCH_DATABASE=postgres://… serves from that empty PostgreSQL database instead of SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Fleetkey.Bench -c Release -nologo -v quiet -clp:NoSummary
exec dotnet bench/Fleetkey.Bench/bin/Release/net10.0/Fleetkey.Bench.dll --start-server ${BENCH_DATABASE:+--database "$BENCH_DATABASE"} "$@"
