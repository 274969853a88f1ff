#!/usr/bin/env bash
# The last line of a Node test run (node --test --test-reporter=tap) for test.sh:
#   bash tests/tap_summary.sh LABEL TAP_OUTPUT_FILE NODE_EXIT_CODE
# prints `LABEL: N passed, N failed, N skipped` and exits non-zero when anything failed (a run
# without a summary, i.e. node failing before or while running the tests, counts as one failure).
# Before it, one line per reason tests were skipped for: `LABEL: N skipped — REASON` (test.sh
# repeats these in its totals).
set -uo pipefail
label=$1 out=$2 rc=$3
passed="$(grep -E '^# pass [0-9]+$' "$out" | tail -n 1 | grep -oE '[0-9]+' || true)"
failed="$(grep -E '^# fail [0-9]+$' "$out" | tail -n 1 | grep -oE '[0-9]+' || true)"
skipped="$(grep -E '^# skipped [0-9]+$' "$out" | tail -n 1 | grep -oE '[0-9]+' || true)"
if [[ -z "$passed" || -z "$failed" ]]; then
  echo "$label: ${passed:-0} passed, $(( ${failed:-0} > 0 ? ${failed:-0} : 1 )) failed"
  exit 1
fi
if [[ "$rc" -ne 0 && "$failed" -eq 0 ]]; then failed=1; fi
# "ok 3 - name # SKIP reason" (node --test's TAP), counted per reason.
grep -E '^\s*ok [0-9]+ - .* # SKIP' "$out" | sed -E 's/.* # SKIP ?//' | sort | uniq -c \
  | while read -r n reason; do echo "$label: $n skipped — ${reason:-(no reason given)}"; done
echo "$label: $passed passed, $failed failed, ${skipped:-0} skipped"
[[ "$failed" -eq 0 && "$rc" -eq 0 ]]
