'use strict'
// Where the seed's original code is: ../shared/seed beside the repository (the user's own
// register-thing.js and its template, which the repository does not copy). The test files run that
// file unchanged, so a clone without it skips them with SEED_SKIP_REASON; CI always has it, so there
// (CI=true) nothing is skipped and the tests fail on the missing file.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { test, before } = require('node:test')
const { REPO_ROOT } = require('./fleetkey_server')

const SEED_FILE = path.resolve(REPO_ROOT, '..', 'shared', 'seed', 'register-thing.js')
const IN_CI = (process.env.CI || '').toLowerCase() === 'true'
const SEED_SKIP_REASON = fs.existsSync(SEED_FILE) || IN_CI
  ? null
  : "../shared/seed/register-thing.js not found (the seed's original code lives beside the repository; CI always has it)"

// The seed file must resolve 'aws-sdk' to this project's copy (NODE_PATH, as run.sh sets it): only then does
// the AWS.config a test sets reach the client the seed builds when it loads.
function checkSeedSdk () {
  let seedSdk
  try {
    seedSdk = require.resolve('aws-sdk', { paths: [path.dirname(SEED_FILE)] })
  } catch {
    throw new Error(`register-thing.js cannot resolve 'aws-sdk': run with NODE_PATH=${path.join(__dirname, 'node_modules')} (bash run.sh)`)
  }
  assert.equal(seedSdk, require.resolve('aws-sdk'), 'the seed file and the test must load the same aws-sdk')
}

// A test file's frame: `test` skips with SEED_SKIP_REASON without the seed, `setUp` runs before the tests
// (not at all without the seed), and `failures` counts what failed in either, so that the after hook keeps
// the server's log.
function seedSuite () {
  const suite = { failures: 0 }
  const counted = async (fn, ...args) => {
    try {
      await fn(...args)
    } catch (err) {
      suite.failures++
      throw err
    }
  }
  suite.test = (name, opts, fn) => test(name, SEED_SKIP_REASON ? { ...opts, skip: SEED_SKIP_REASON } : opts, (ctx) => counted(fn, ctx))
  suite.setUp = (fn) => before(async () => {
    if (!SEED_SKIP_REASON) await counted(fn)
  })
  return suite
}

module.exports = { SEED_FILE, SEED_SKIP_REASON, checkSeedSdk, seedSuite }
