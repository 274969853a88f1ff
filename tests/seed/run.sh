#!/usr/bin/env bash
# Runs the seed test: the seed's register-thing.js, unchanged, against a real `fleetkey serve`.
#
#   bash tests/seed/run.sh
#
# Installs this project's locked dependencies (aws-sdk v2) with `npm ci` when node_modules is
# missing, then runs seed.test.js with Node's test runner. NODE_PATH points at this project's
# node_modules so that ../../../shared/seed/register-thing.js (which has no node_modules of its
# own) loads the same aws-sdk instance as the test. Needs the Release build (or FLEETKEY_DLL) and
# openssl. Last line: `seed: N passed, N failed`; exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ ! -f node_modules/aws-sdk/package.json ]]; then
  if ! npm ci --no-audit --no-fund; then
    echo "npm ci failed in $PWD"
    echo "seed: 0 passed, 1 failed"
    exit 1
  fi
fi

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
NODE_PATH="$PWD/node_modules" AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1 \
  node --test --test-reporter=tap seed.test.js 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}

passed="$(grep -E '^# pass [0-9]+$' "$out" | tail -n 1 | grep -oE '[0-9]+' || true)"
failed="$(grep -E '^# fail [0-9]+$' "$out" | tail -n 1 | grep -oE '[0-9]+' || true)"
if [[ -z "$passed" || -z "$failed" ]]; then
  # No summary: node itself failed before or while running the tests.
  echo "seed: ${passed:-0} passed, $(( ${failed:-0} > 0 ? ${failed:-0} : 1 )) failed"
  exit 1
fi
if [[ "$rc" -ne 0 && "$failed" -eq 0 ]]; then failed=1; fi
echo "seed: $passed passed, $failed failed"
[[ "$failed" -eq 0 && "$rc" -eq 0 ]]
