#!/usr/bin/env bash
# Runs the fleet provisioning test: AWS's device SDK (aws-iot-device-sdk-v2, its iotidentity client,
# over aws-crt) against a real `fleetkey serve` with its MQTT broker.
#
#   bash tests/fleet/run.sh
#
# Installs this project's locked dependencies (aws-iot-device-sdk-v2, aws-sdk v2) with `npm ci` when
# node_modules is missing (aws-crt ships its native binaries in the package: no install script or
# download is needed), then runs fleet.test.js with Node's test runner. FLEETKEY_TEST_STORE=postgres
# runs the server on a fresh database of FLEETKEY_TEST_POSTGRES. Needs the Release build (or
# FLEETKEY_DLL) and openssl. Last line: `fleet: N passed, N failed, N skipped`; exits non-zero when
# anything failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ ! -f node_modules/aws-iot-device-sdk-v2/package.json || ! -f node_modules/aws-sdk/package.json ]]; then
  if ! npm ci --no-audit --no-fund; then
    echo "npm ci failed in $PWD"
    echo "fleet: 0 passed, 1 failed"
    exit 1
  fi
fi

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1 node --test --test-reporter=tap fleet.test.js 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}

bash ../tap_summary.sh fleet "$out" "$rc"
