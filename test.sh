#!/usr/bin/env bash
# Runs every Fleetkey test: the xunit suites, then the compatibility suites that drive a real
# `fleetkey serve` with boto3, the AWS CLI and the seed's register-thing.js (aws-sdk v2).
# Prints per-suite results, then one last line "N passed, N failed, N skipped" summed over all of
# them; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")"

passed=0 failed=0 skipped=0 broken=0
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

add() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + ${3:-0})); }

echo "== build"
if ! dotnet build Fleetkey.slnx -c Release -nologo -v quiet 2>&1 | tail -n 20; then
  broken=1
fi
if [ ! -f src/Fleetkey/bin/Release/net10.0/fleetkey.dll ]; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

echo "== xunit"
dotnet test Fleetkey.slnx -c Release --no-build -nologo 2>&1 | tee "$log_dir/xunit.log" | grep -vE '^\s*$'
[ "${PIPESTATUS[0]}" -eq 0 ] || broken=1
while read -r f p s; do add "$p" "$f" "$s"; done < <(
  grep -E '(Passed|Failed)!\s+- Failed:' "$log_dir/xunit.log" \
    | sed -E 's/.*Failed:\s*([0-9]+), Passed:\s*([0-9]+), Skipped:\s*([0-9]+).*/\1 \2 \3/')
[ "$(grep -cE '(Passed|Failed)!\s+- Failed:' "$log_dir/xunit.log")" -gt 0 ] || broken=1

export FLEETKEY_DLL="$PWD/src/Fleetkey/bin/Release/net10.0/fleetkey.dll"

# Runs one suite whose last line is "<label>: N passed, N failed[, N skipped]" and adds its counts.
suite() {
  local title=$1 label=$2; shift 2
  echo "== $title"
  "$@" 2>&1 | tee "$log_dir/$label.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || broken=1
  local line
  line=$(grep -E "^$label: [0-9]+ passed, [0-9]+ failed" "$log_dir/$label.log" | tail -n 1)
  if [ -z "$line" ]; then
    broken=1
    return
  fi
  add "$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")" "$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")" \
      "$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || echo 0)"
}

suite "compat (boto3)" compat python3 tests/compat/run.py
suite "compat (aws cli)" cli bash tests/compat/cli_smoke.sh
suite "seed (register-thing.js with aws-sdk v2)" seed bash tests/seed/run.sh

# A suite that crashed without reporting its own failures still fails the run.
if [ "$broken" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
