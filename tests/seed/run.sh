#!/usr/bin/env bash
# Runs the seed tests: the seed's register-thing.js, unchanged, against real `fleetkey serve` processes.
#
#   bash tests/seed/run.sh
#
#   seed.test.js       one node on its own SQLite data directory
#   seed_tls.test.js   one node with an HTTPS control plane; aws-sdk trusts DIR/ca.pem through an https agent
#   seed_provisioner.test.js  the seed with a key made by `fleetkey keys create --policy provisioner`
#                      (issue 20): 25 devices registered and unregistered, AccessDeniedException for the rest
#   two_nodes.test.js  two nodes on one PostgreSQL database: needs FLEETKEY_TEST_POSTGRES (a
#                      postgres:// URL, e.g. from scripts/postgres.sh) and psql; skipped without it,
#                      except in CI (CI=true), where that is a failure
#
# Installs this project's locked dependencies (aws-sdk v2) with `npm ci` when node_modules is
# missing, then runs the files with Node's test runner (each file in its own process). NODE_PATH
# points at this project's node_modules so that ../shared/seed/register-thing.js beside the
# repository (which has no node_modules of its own) loads the same aws-sdk instance as the tests.
# Without that file (a clone on its own) every test is skipped with the reason (seed_file.js),
# except in CI. Needs the Release build
# (or FLEETKEY_DLL) and openssl. Last line: `seed: N passed, N failed, N skipped`; exits non-zero when anything failed.
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
  node --test --test-reporter=tap seed.test.js seed_tls.test.js seed_provisioner.test.js two_nodes.test.js 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}

bash ../tap_summary.sh seed "$out" "$rc"
