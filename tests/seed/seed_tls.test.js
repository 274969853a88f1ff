'use strict'
// The seed's register-thing.js, unchanged, against a Fleetkey whose control plane is HTTPS (issue 19):
// the only change on the seed's side is aws-sdk's configuration, an https agent that trusts
// Fleetkey's CA (DIR/ca.pem), as a user would set it up. Without that agent aws-sdk refuses the
// certificate. Runs in its own process (node --test runs each file apart), so the global AWS.config
// here does not reach seed.test.js.

const { after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const https = require('node:https')
const { errorOf, logTail, startFleetkey, stopFleetkey } = require('./fleetkey_server')
const { SEED_FILE, seedSuite } = require('./seed_file')

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1'

const REGION = 'eu-west-1'
const ACCESS_KEY_ID = 'AKIDFLEETKEYSEEDTLS1'
const SECRET_ACCESS_KEY = crypto.randomBytes(20).toString('hex')
const RUN = crypto.randomBytes(3).toString('hex')
const SERIALS = Array.from({ length: 3 }, (_, i) => `SN-TLS-${RUN}-${i + 1}`)

let server = null
let AWS = null
let iot = null
let seed = null
const suite = seedSuite()
const t = suite.test

suite.setUp(async () => {
  server = await startFleetkey({ name: 'seed-tls', accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, tls: true })
  AWS = require('aws-sdk')
  AWS.config.update({
    credentials: new AWS.Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY),
    region: REGION,
    httpOptions: { agent: new https.Agent({ ca: fs.readFileSync(server.caPath), keepAlive: true }) }
  })
  AWS.config.iot = { endpoint: server.endpoint }
  process.env.region = REGION
  seed = require(SEED_FILE)
  iot = new AWS.Iot({ region: REGION })
})

after(async () => {
  if (!server) return
  await stopFleetkey(server)
  if (suite.failures > 0) {
    console.log(logTail(server, 60))
  } else {
    fs.rmSync(server.dataDir, { recursive: true, force: true })
    fs.rmSync(server.logPath, { force: true })
  }
})

t('the control plane is HTTPS and aws-sdk without the CA refuses its certificate', { timeout: 60000 }, async () => {
  assert.match(server.endpoint, /^https:\/\//)
  const untrusting = new AWS.Iot({ region: REGION, endpoint: server.endpoint, httpOptions: { agent: new https.Agent() }, maxRetries: 0 })
  const r = await errorOf(untrusting.listThings({}).promise())
  assert.equal(r.ok, false)
  assert.match(`${r.code} ${r.message}`, /certificate/i)
})

t('registerThing and unregisterThing over HTTPS, the seed unchanged', { timeout: 120000 }, async () => {
  await iot.createThingType({ thingTypeName: 'NewDevice' }).promise()
  await iot.createThingGroup({ thingGroupName: 'NewDevices' }).promise()
  await iot.createPolicy({
    policyName: 'DefaultNewDevicePolicy',
    policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] })
  }).promise()

  for (const serialNumber of SERIALS) {
    const r = await seed.registerThing({ serialNumber })
    assert.match(r.certificatePem, /BEGIN CERTIFICATE/)
    assert.match(r.privateKey, /PRIVATE KEY/)
    const thing = await iot.describeThing({ thingName: serialNumber }).promise()
    assert.equal(thing.thingTypeName, 'NewDevice')
    const certificate = await iot.describeCertificate({ certificateId: r.certificateId }).promise()
    assert.equal(certificate.certificateDescription.status, 'ACTIVE')
  }

  for (const serialNumber of SERIALS) {
    const u = await seed.unregisterThing({ serialNumber })
    assert.equal(u.deleted, true)
    const gone = await errorOf(iot.describeThing({ thingName: serialNumber }).promise())
    assert.equal(gone.code, 'ResourceNotFoundException')
  }
})

