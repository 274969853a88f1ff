#!/usr/bin/env bash
# Runs every Fleetkey test: the xunit suites, then the compatibility suites that drive a real
# `fleetkey serve` with boto3, the AWS CLI and the seed's register-thing.js (aws-sdk v2).
# With FLEETKEY_TEST_POSTGRES set (always in CI) a second pass runs the suites that use the store
# through the services or the app again on PostgreSQL. Prints per-suite results and per-pass
# subtotals, every reason tests were skipped for (with how many, per suite), then one last line
# "N passed, N failed, N skipped" summed over everything; exits non-zero if anything failed.
# A clone without the seed beside it (../shared/seed) skips the tests that run the seed's own
# register-thing.js, saying so; CI always has it (.ci/run refuses to start without it).
set -uo pipefail
cd "$(dirname "$0")"

passed=0 failed=0 skipped=0 broken=0
skip_notes=() # "<suite title>: N skipped — <reason>", printed with the totals
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

# Records why a suite skipped tests: its "N skipped — REASON" lines, or, when it skipped some and
# gave no reason, one line saying so.
note_skips() {
  local title=$1 count=$2 reasons=$3
  [ "$count" -gt 0 ] || return 0
  [ -n "$reasons" ] || reasons="$count skipped — (no reason given)"
  local r
  while IFS= read -r r; do skip_notes+=("$title: $r"); done <<<"$reasons"
}

# "N skipped (Class.Method, …) — REASON" per reason, from the TRX files `dotnet test` wrote: the
# console shows which tests were skipped but not why.
trx_skips() {
  python3 - "$@" <<'PY'
import collections, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
tests = collections.defaultdict(list)
for path in sys.argv[1:]:
    for result in ET.parse(path).getroot().iterfind(".//t:UnitTestResult[@outcome='NotExecuted']", ns):
        message = result.find("t:Output/t:ErrorInfo/t:Message", ns)
        reason = (message.text or "").strip() if message is not None else ""
        tests[reason or "(no reason given)"].append(".".join(result.get("testName", "?").split("(")[0].split(".")[-2:]))
for reason, names in sorted(tests.items()):
    shown = ", ".join(sorted(names)[:3]) + (", …" if len(names) > 3 else "")
    print(f"{len(names)} skipped ({shown}) — {reason}")
PY
}

# Runs `dotnet test` (a solution or one project) and adds the counts of every test assembly it ran.
xunit() {
  local title=$1 log=$2 start=$SECONDS; shift 2
  # A TRX file per test assembly, for the skip reasons; the logger goes before any `--` (RunSettings).
  local trx="$log_dir/$log-trx" command=() placed=0 arg
  local logger=(--logger trx --results-directory "$trx")
  for arg in "$@"; do
    if [ "$arg" = "--" ] && [ "$placed" -eq 0 ]; then command+=("${logger[@]}"); placed=1; fi
    command+=("$arg")
  done
  [ "$placed" -eq 1 ] || command+=("${logger[@]}")
  echo "== $title"
  "${command[@]}" 2>&1 | tee "$log_dir/$log.log" | grep -vE '^\s*$|^Results File: '
  [ "${PIPESTATUS[0]}" -eq 0 ] || broken=1
  echo "($title: $((SECONDS - start)) s)"
  local run_skipped=0 f p s
  while read -r f p s; do add "$p" "$f" "$s"; run_skipped=$((run_skipped + s)); done < <(
    grep -E '(Passed|Failed)!\s+- Failed:' "$log_dir/$log.log" \
      | sed -E 's/.*Failed:\s*([0-9]+), Passed:\s*([0-9]+), Skipped:\s*([0-9]+).*/\1 \2 \3/')
  [ "$(grep -cE '(Passed|Failed)!\s+- Failed:' "$log_dir/$log.log")" -gt 0 ] || broken=1
  if [ "$run_skipped" -gt 0 ]; then
    local reasons=""
    shopt -s nullglob
    local files=("$trx"/*.trx)
    shopt -u nullglob
    [ ${#files[@]} -eq 0 ] || reasons=$(trx_skips "${files[@]}")
    local r
    [ -z "$reasons" ] || while IFS= read -r r; do echo "$title: $r"; done <<<"$reasons"
    note_skips "$title" "$run_skipped" "$reasons"
  fi
}

# Tests that use FLEETKEY_TEST_POSTGRES's database itself (the multi-node tests) would meet an
# earlier pass's or run's fleet there (its root key, its CA), so each pass points the variable at
# a new database on the same server; the helpers that make per-test databases only connect
# through it. Needs the postgres:// URL scripts/postgres.sh prints.
server_url=${FLEETKEY_TEST_POSTGRES:-}
pass_url=""
pass_database() {
  [ -n "$server_url" ] || return 0
  if pass_url=$(FLEETKEY_TEST_POSTGRES=$server_url bash scripts/postgres.sh create-db); then
    export FLEETKEY_TEST_POSTGRES=$pass_url
  else
    echo "could not create a database on $server_url (scripts/postgres.sh create-db)"
    broken=1
    pass_url=""
  fi
}
end_pass_database() {
  [ -n "$server_url" ] || return 0
  export FLEETKEY_TEST_POSTGRES=$server_url
  [ -z "$pass_url" ] || bash scripts/postgres.sh drop-db "$pass_url" || true
}

# The first pass is SQLite whatever the caller exported (the hosts and servers read this).
export FLEETKEY_TEST_STORE=sqlite
pass_start=$SECONDS
pass_database
# The fuzz suite (tests/Fleetkey.Fuzz.Tests) runs with the others; each target appends the inputs it
# tried to this file. FLEETKEY_FUZZ_SCALE=N multiplies every count (the long run, see README).
export FLEETKEY_FUZZ_REPORT="$log_dir/fuzz.tsv"
: > "$FLEETKEY_FUZZ_REPORT"
xunit "xunit" xunit dotnet test Fleetkey.slnx -c Release --no-build -nologo
echo "== fuzz suite (inputs tried per target)"
awk -F '\t' '{ cases[$1] += $2; secs[$1] += $3; total += $2 }
  END { for (t in cases) printf "  %-40s %10d inputs %8.1f s\n", t, cases[t], secs[t]; printf "fuzz: %d inputs across %d targets\n", total, length(cases) }' \
  "$FLEETKEY_FUZZ_REPORT" | sort
unset FLEETKEY_FUZZ_REPORT

export FLEETKEY_DLL="$PWD/src/Fleetkey/bin/Release/net10.0/fleetkey.dll"

# Runs one suite whose last line is "<label>: N passed, N failed[, N skipped]" and adds its counts.
# Before it, a suite that skips tests says why, one line per reason: "<label>: N skipped — <reason>".
suite() {
  local title=$1 label=$2 start=$SECONDS; shift 2
  local log="$log_dir/$label${FLEETKEY_TEST_STORE:+-$FLEETKEY_TEST_STORE}.log"
  echo "== $title"
  "$@" 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || broken=1
  echo "($title: $((SECONDS - start)) s)"
  local line
  line=$(grep -E "^$label: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n 1)
  if [ -z "$line" ]; then
    broken=1
    return
  fi
  local suite_skipped
  suite_skipped=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  add "$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")" "$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")" "$suite_skipped"
  note_skips "$title" "$suite_skipped" "$(grep -E "^$label: [0-9]+ skipped — " "$log" | sed -E "s/^$label: //")"
}

suite "compat (boto3)" compat python3 tests/compat/run.py
suite "compat (aws cli)" cli bash tests/compat/cli_smoke.sh
suite "seed (register-thing.js with aws-sdk v2)" seed bash tests/seed/run.sh
suite "fleet provisioning (aws-iot-device-sdk-v2)" fleet bash tests/fleet/run.sh
# Issue 17: README.md's shell and Python examples, in order, as a user pastes them, against a fresh server.
suite "README examples" readme python3 tests/readme/run.py
# Issue 6: every benchmark scenario for a few seconds against a real server; only "no errors" is asserted.
suite "bench (quick: every scenario against a real server)" bench bash bench/smoke.sh
end_pass_database
sqlite_counts="$passed passed, $failed failed, $skipped skipped in $((SECONDS - pass_start)) s"

# Second pass (issue 4: the whole suite on both stores): everything that reaches the store through
# the services or the app runs again on PostgreSQL. FLEETKEY_TEST_STORE=postgres makes the xunit
# hosts and every `fleetkey serve` the suites start use a fresh database on FLEETKEY_TEST_POSTGRES.
# The store contract tests (Fleetkey.Storage.Tests) already ran on both stores above; the other
# xunit projects never open a store, and Fleetkey.Storage.Sqlite.Tests is about SQLite itself.
if [ -n "$server_url" ]; then
  export FLEETKEY_TEST_STORE=postgres
  before_passed=$passed before_failed=$failed before_skipped=$skipped pass_start=$SECONDS
  pass_database
  # Every test makes and drops a database of its own, which is mostly waiting on PostgreSQL: more
  # test classes at once than the default (one per core) keep the pass short.
  for project in Fleetkey.Services.Tests Fleetkey.Api.Tests; do
    xunit "xunit (PostgreSQL): $project" "xunit-postgres-$project" \
      dotnet test "tests/$project/$project.csproj" -c Release --no-build -nologo -- xUnit.MaxParallelThreads=8
  done
  suite "compat (boto3) (PostgreSQL)" compat python3 tests/compat/run.py
  suite "compat (aws cli) (PostgreSQL)" cli bash tests/compat/cli_smoke.sh
  suite "seed (register-thing.js with aws-sdk v2) (PostgreSQL)" seed bash tests/seed/run.sh
  suite "fleet provisioning (aws-iot-device-sdk-v2) (PostgreSQL)" fleet bash tests/fleet/run.sh
  end_pass_database
  postgres_counts="$((passed - before_passed)) passed, $((failed - before_failed)) failed, $((skipped - before_skipped)) skipped in $((SECONDS - pass_start)) s"
elif [ "${CI:-}" = "true" ]; then
  echo "== PostgreSQL pass"
  echo "FLEETKEY_TEST_POSTGRES is not set: in CI every suite runs on PostgreSQL too (.ci/run starts one with scripts/postgres.sh)"
  failed=$((failed + 1))
  postgres_counts="not run (FLEETKEY_TEST_POSTGRES is not set)"
else
  postgres_counts="not run (set FLEETKEY_TEST_POSTGRES, e.g. from scripts/postgres.sh start)"
fi

echo "== totals"
echo "SQLite pass: $sqlite_counts"
echo "PostgreSQL pass: $postgres_counts"
if [ ${#skip_notes[@]} -gt 0 ]; then
  echo "Skipped:"
  printf '  %s\n' "${skip_notes[@]}"
fi
# A suite that crashed without reporting its own failures still fails the run.
if [ "$broken" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
