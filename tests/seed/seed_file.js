'use strict'
// Where the seed's original code is: ../shared/seed beside the repository (the user's own
// register-thing.js and its template, which the repository does not copy). Both test files run that
// file unchanged, so a clone without it skips them with SEED_SKIP_REASON; CI always has it, so there
// (CI=true) nothing is skipped and the tests fail on the missing file.

const fs = require('node:fs')
const path = require('node:path')
const { REPO_ROOT } = require('./fleetkey_server')

const SEED_FILE = path.resolve(REPO_ROOT, '..', 'shared', 'seed', 'register-thing.js')
const IN_CI = (process.env.CI || '').toLowerCase() === 'true'
const SEED_SKIP_REASON = fs.existsSync(SEED_FILE) || IN_CI
  ? null
  : "../shared/seed/register-thing.js not found (the seed's original code lives beside the repository; CI always has it)"

module.exports = { SEED_FILE, SEED_SKIP_REASON }
