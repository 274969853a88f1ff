#!/usr/bin/env bash
# CI smoke test of the benchmark: builds Release, then runs every scenario for a few seconds
# (bench --quick: 2,000 things, 4 in flight) against a `fleetkey serve` it starts on a fresh data
# directory. Asserts only that each scenario completes without errors; no timing assertions.
# Last line: "bench: N passed, N failed", each scenario counting as one. Extra arguments go to the bench.
set -uo pipefail
cd "$(dirname "$0")/.."
scenarios=11

if ! dotnet build bench/Fleetkey.Bench -c Release -nologo -v quiet -clp:NoSummary; then
  echo "bench: 0 passed, $scenarios failed"
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet bench/Fleetkey.Bench/bin/Release/net10.0/Fleetkey.Bench.dll --start-server --quick "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

line=$(grep -E '^bench: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
if [ -z "$line" ]; then
  # The bench died before its summary: nothing it measured counts.
  echo "bench: 0 passed, $scenarios failed"
  exit 1
fi

passed=$(sed -E 's/^bench: ([0-9]+) passed.*/\1/' <<<"$line")
failed=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # Every scenario passed but the bench still failed (e.g. writing its results): count that too.
  echo "bench: $passed passed, 1 failed"
fi
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
