'use strict'
// Runs the seed's own registerThing/unregisterThing (shared/seed/register-thing.js, unchanged, on
// aws-sdk v2) for the serial numbers given, one after the other, against one Fleetkey server, and
// prints { serial: result } as JSON on stdout. SeedEquivalenceTests runs it and runs the C#
// DeviceRegistrar on a second server, then compares the two fleets.
//
//   NODE_PATH=tests/seed/node_modules FLEETKEY_ENDPOINT=http://127.0.0.1:PORT \
//   FLEETKEY_ACCESS_KEY_ID=... FLEETKEY_SECRET_ACCESS_KEY=... region=eu-west-1 \
//   SEED_FILE=../shared/seed/register-thing.js node seed-registrar.js register|unregister SERIAL...
//
// The seed file does require('aws-sdk') from its own folder, which has no node_modules: NODE_PATH
// makes it load the same aws-sdk as this script, so the configuration set here is the one its
// `new AWS.Iot(...)` reads.

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1'
const AWS = require('aws-sdk')

AWS.config.update({
  credentials: new AWS.Credentials(process.env.FLEETKEY_ACCESS_KEY_ID, process.env.FLEETKEY_SECRET_ACCESS_KEY),
  region: process.env.region
})
AWS.config.iot = { endpoint: process.env.FLEETKEY_ENDPOINT }
const seed = require(process.env.SEED_FILE)

async function main () {
  const [action, ...serials] = process.argv.slice(2)
  const run = { register: seed.registerThing, unregister: seed.unregisterThing }[action]
  if (!run || serials.length === 0) throw new Error('usage: seed-registrar.js register|unregister SERIAL...')
  const results = {}
  for (const serialNumber of serials) results[serialNumber] = await run({ serialNumber })
  process.stdout.write(JSON.stringify(results))
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})
