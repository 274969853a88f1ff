'use strict'
// The seed, verbatim (issue 3): ../shared/seed/register-thing.js beside the repository, the user's
// own provisioning code, runs UNCHANGED against a real `fleetkey serve`; only aws-sdk's endpoint and
// credentials point at Fleetkey. Every test is skipped, with the reason, when that file is absent,
// except in CI (seed_file.js).
//
//   bash tests/seed/run.sh        (npm ci if needed, then NODE_PATH=node_modules node --test)
//
// register-thing.js does require('aws-sdk') from its own folder (shared/seed/, which has no
// node_modules), so run.sh sets NODE_PATH to this project's node_modules: the seed file and this
// test then load the same aws-sdk module instance, and the AWS.config set up here is the one the
// seed's `new AWS.Iot(...)` reads.
//
// Environment: FLEETKEY_DLL (default <repo>/src/Fleetkey/bin/Release/net10.0/fleetkey.dll);
// FLEETKEY_KEEP_DATA keeps the temporary data directory and server log; FLEETKEY_TEST_STORE=postgres
// runs the server on a fresh database on the FLEETKEY_TEST_POSTGRES server (scripts/postgres.sh
// create-db), dropped afterwards.

const { after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { REPO_ROOT, errorOf, finishServer, httpGet, logTail, startOnTestStore, stopFleetkey } = require('./fleetkey_server')
const { SEED_FILE, checkSeedSdk, seedSuite } = require('./seed_file')

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1'

const OPENSSL = fs.existsSync('/usr/bin/openssl') ? '/usr/bin/openssl' : 'openssl'
const REGION = 'eu-west-1'
const ACCOUNT_ID = '000000000000' // design §2: default account id in ARNs
const ACCESS_KEY_ID = 'AKIDFLEETKEYSEED0001'
const SECRET_ACCESS_KEY = crypto.randomBytes(20).toString('hex')
const RUN = crypto.randomBytes(3).toString('hex')
const SERIALS = Array.from({ length: 25 }, (_, i) => `SN-${RUN}-${String(i + 1).padStart(3, '0')}`)
const CONCURRENCY = 5

// Names fixed by the seed's template (register-thing-template-body.json) and its README.
const THING_TYPE = 'NewDevice'
const THING_GROUP = 'NewDevices'
const POLICY = 'DefaultNewDevicePolicy'

const arn = (kind, name) => `arn:aws:iot:${REGION}:${ACCOUNT_ID}:${kind}/${name}`

// A reasonable device policy: a device connects only as its own thing name and talks only on its
// own topics (policy variables as in AWS's docs, iot-policy-variables / example policies).
const POLICY_DOCUMENT = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', '${iot:Connection.Thing.ThingName}') },
    {
      Effect: 'Allow',
      Action: ['iot:Publish', 'iot:Receive'],
      Resource: arn('topic', 'devices/${iot:Connection.Thing.ThingName}/*')
    },
    {
      Effect: 'Allow',
      Action: 'iot:Subscribe',
      Resource: arn('topicfilter', 'devices/${iot:Connection.Thing.ThingName}/*')
    }
  ]
}

let server = null // { proc, endpoint, dataDir, logPath, database, exited: Promise<{code, signal}> }
let AWS = null
let iot = null // the test's own client (same aws-sdk instance and config as the seed's)
let seed = null // { registerThing, unregisterThing } from the seed file
let caPath = null
// Counts failures so the after hook knows whether to keep the server log; skips without the seed.
const suite = seedSuite()
const t = suite.test
const results = new Map() // serial -> registerThing result
const unregistered = new Map() // serial -> unregisterThing result

// ------------------------------------------------------------------------------ helpers

// On the run's store: SQLite in the data directory, or a fresh PostgreSQL database (FLEETKEY_TEST_STORE).
async function startServer () {
  try {
    server = await startOnTestStore({ name: 'seed', accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY })
  } catch (err) {
    server = err.server || null
    throw err
  }
}

function openssl (args) {
  return new Promise((resolve) => {
    execFile(OPENSSL, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

const spkiPem = (key) => key.export({ type: 'spki', format: 'pem' })

async function inBatches (items, size, fn) {
  const out = []
  for (let i = 0; i < items.length; i += size) {
    out.push(...await Promise.all(items.slice(i, i + size).map(fn)))
  }
  return out
}

// ------------------------------------------------------------------------------ setup

suite.setUp(async () => {
  await startServer()
  checkSeedSdk()

  AWS = require('aws-sdk')
  AWS.config.update({
    credentials: new AWS.Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY),
    region: REGION
  })
  AWS.config.iot = { endpoint: server.endpoint }
  process.env.region = REGION
  seed = require(SEED_FILE)
  iot = new AWS.Iot({ region: REGION })
})

after(async () => {
  const keep = suite.failures > 0
  await finishServer(server, keep)
  if (caPath && !keep && !process.env.FLEETKEY_KEEP_DATA) fs.rmSync(caPath, { force: true })
})

// ------------------------------------------------------------------------------ tests

t('the seed file loads with this aws-sdk and exports registerThing/unregisterThing', {}, async () => {
  assert.equal(typeof seed.registerThing, 'function')
  assert.equal(typeof seed.unregisterThing, 'function')
  // The template the seed sends is the shared JSON next to it.
  const template = JSON.parse(fs.readFileSync(path.join(path.dirname(SEED_FILE), 'register-thing-template-body.json'), 'utf8'))
  assert.deepEqual(Object.keys(template.Resources).sort(), ['certificate', 'policy', 'thing'])
})

// The repository keeps the seed's template verbatim (Fleetkey.Client embeds it; every other suite reads
// the repository's copy): this is the one check of that copy against the seed's own file.
t("the repository's copy of the seed's template is the seed's file byte for byte", {}, async () => {
  const original = fs.readFileSync(path.join(path.dirname(SEED_FILE), 'register-thing-template-body.json'))
  const copy = fs.readFileSync(path.join(REPO_ROOT, 'src', 'Fleetkey.Client', 'register-thing-template-body.json'))
  assert.ok(copy.equals(original), 'src/Fleetkey.Client/register-thing-template-body.json differs from ../shared/seed/register-thing-template-body.json')
})

t('GET /ca.pem serves the CA chain without a signature', { timeout: 30000 }, async () => {
  // Design §2: GET /ca.pem (unauthenticated) returns the CA certificate(s) that sign device certificates.
  const ca = await httpGet(`${server.endpoint}/ca.pem`)
  assert.equal(ca.status, 200)
  assert.match(ca.body, /-----BEGIN CERTIFICATE-----/)
  caPath = `${server.dataDir}-ca.pem`
  fs.writeFileSync(caPath, ca.body)
})

t('creates the NewDevice thing type, the NewDevices group and DefaultNewDevicePolicy', { timeout: 60000 }, async () => {
  // Seed README: "Make sure the NewDevice thing type, the group and the policy exist beforehand."
  const type = await iot.createThingType({
    thingTypeName: THING_TYPE,
    thingTypeProperties: { thingTypeDescription: 'Devices provisioned by the internal server', searchableAttributes: ['serialNumber'] }
  }).promise()
  assert.equal(type.thingTypeArn, arn('thingtype', THING_TYPE))

  const group = await iot.createThingGroup({ thingGroupName: THING_GROUP }).promise()
  assert.equal(group.thingGroupArn, arn('thinggroup', THING_GROUP))

  const policy = await iot.createPolicy({ policyName: POLICY, policyDocument: JSON.stringify(POLICY_DOCUMENT) }).promise()
  assert.equal(policy.policyName, POLICY)
  assert.equal(policy.policyArn, arn('policy', POLICY))
  // CreatePolicy returns policyVersionId "1" for a new policy (model: CreatePolicyResponse).
  assert.equal(policy.policyVersionId, '1')
})

t(`registerThing for ${SERIALS.length} serial numbers, ${CONCURRENCY} at a time`, { timeout: 300000 }, async () => {
  const out = await inBatches(SERIALS, CONCURRENCY, async (serialNumber) => {
    const r = await seed.registerThing({ serialNumber })
    return [serialNumber, r]
  })
  for (const [serial, r] of out) results.set(serial, r)
  assert.equal(results.size, SERIALS.length)
  const ids = new Set([...results.values()].map((r) => r.certificateId))
  assert.equal(ids.size, SERIALS.length, 'every registration has its own certificate')
})

for (const serial of SERIALS) {
  t(`${serial}: thing, group, certificate, policy, key and chain check out`, { timeout: 60000 }, async () => {
    const r = results.get(serial)
    assert.ok(r, `no registerThing result for ${serial}`)

    // RegisterThing's resourceArns is keyed by the template's logical resource names
    // (AWS docs single-thing-provisioning: {"thing": ..., "certificate": ..., "PolicyLogicalName": ...}).
    assert.deepEqual(r.resourceArns, {
      thing: arn('thing', serial),
      certificate: r.certificateArn,
      policy: arn('policy', POLICY)
    })
    assert.equal(r.certificateArn, arn('cert', r.certificateId))
    assert.ok(r.certificatePem && r.privateKey && r.publicKey, 'certificate PEM and key pair are returned')

    // certificateId = lowercase hex SHA-256 of the DER (design §4; getmoto/moto#3321).
    const x509 = new crypto.X509Certificate(r.certificatePem)
    assert.equal(r.certificateId, crypto.createHash('sha256').update(x509.raw).digest('hex'))

    // The private key matches the certificate (and the returned public key).
    const fromPrivate = spkiPem(crypto.createPublicKey(r.privateKey))
    assert.equal(fromPrivate, spkiPem(x509.publicKey), 'private key does not match the certificate')
    assert.equal(fromPrivate, spkiPem(crypto.createPublicKey(r.publicKey)), 'keyPair.PublicKey does not match')
    // CreateKeysAndCertificate "creates a 2048-bit RSA key pair" (model doc).
    assert.equal(x509.publicKey.asymmetricKeyType, 'rsa')
    assert.equal(x509.publicKey.asymmetricKeyDetails.modulusLength, 2048)

    // The certificate verifies against the chain served at /ca.pem.
    assert.ok(caPath, 'no CA chain from GET /ca.pem')
    const certPath = path.join(os.tmpdir(), `fleetkey-seed-${RUN}-${serial}.pem`)
    fs.writeFileSync(certPath, r.certificatePem)
    try {
      const v = await openssl(['verify', '-CAfile', caPath, certPath])
      assert.equal(v.code, 0, `openssl verify failed: ${v.stdout}${v.stderr}`)
      assert.match(v.stdout, /: OK/)
    } finally {
      fs.rmSync(certPath, { force: true })
    }

    const thing = await iot.describeThing({ thingName: serial }).promise()
    assert.equal(thing.thingName, serial)
    assert.equal(thing.thingArn, arn('thing', serial))
    assert.equal(thing.thingTypeName, THING_TYPE)
    assert.deepEqual(thing.attributes, { serialNumber: serial })

    const groups = await iot.listThingGroupsForThing({ thingName: serial }).promise()
    assert.deepEqual(groups.thingGroups.map((g) => g.groupName), [THING_GROUP])
    assert.equal(groups.thingGroups[0].groupArn, arn('thinggroup', THING_GROUP))

    const cert = await iot.describeCertificate({ certificateId: r.certificateId }).promise()
    assert.equal(cert.certificateDescription.status, 'ACTIVE')
    assert.equal(cert.certificateDescription.certificateArn, r.certificateArn)
    assert.equal(cert.certificateDescription.certificatePem.trim(), r.certificatePem.trim())

    const principals = await iot.listThingPrincipals({ thingName: serial }).promise()
    assert.deepEqual(principals.principals, [r.certificateArn])

    const things = await iot.listPrincipalThings({ principal: r.certificateArn }).promise()
    assert.deepEqual(things.things, [serial])

    // target is a URI label holding an ARN (':' and '/'), percent-encoded by aws-sdk.
    const attached = await iot.listAttachedPolicies({ target: r.certificateArn }).promise()
    assert.deepEqual(attached.policies.map((p) => [p.policyName, p.policyArn]), [[POLICY, arn('policy', POLICY)]])
  })
}

t('NewDevices holds every registered thing', { timeout: 60000 }, async () => {
  const names = []
  let nextToken
  do {
    const page = await iot.listThingsInThingGroup({ thingGroupName: THING_GROUP, maxResults: 10, nextToken }).promise()
    names.push(...page.things)
    nextToken = page.nextToken
  } while (nextToken)
  assert.deepEqual(names.filter((n) => n.startsWith(`SN-${RUN}-`)).sort(), [...SERIALS].sort())
})

t('DefaultNewDevicePolicy targets every registered certificate', { timeout: 60000 }, async () => {
  const targets = []
  let marker
  do {
    const page = await iot.listTargetsForPolicy({ policyName: POLICY, pageSize: 10, marker }).promise()
    targets.push(...page.targets)
    marker = page.nextMarker
  } while (marker)
  for (const serial of SERIALS) {
    const r = results.get(serial)
    assert.ok(r && targets.includes(r.certificateArn), `${serial}'s certificate is not a target of ${POLICY}`)
  }
})

t(`unregisterThing for the ${SERIALS.length} serial numbers, ${CONCURRENCY} at a time`, { timeout: 300000 }, async () => {
  const out = await inBatches(SERIALS, CONCURRENCY, async (serialNumber) => [serialNumber, await seed.unregisterThing({ serialNumber })])
  for (const [serial, u] of out) unregistered.set(serial, u)
  for (const serial of SERIALS) {
    const u = unregistered.get(serial)
    const r = results.get(serial)
    assert.equal(u.deleted, true, `${serial}: deleted`)
    // The seed returns the thing's principals as listed before deleting: the certificate.
    assert.deepEqual(u.thingPrincipals, [r.certificateArn], `${serial}: thingPrincipals`)
  }
})

t('nothing is left: things, certificates and group memberships are gone', { timeout: 120000 }, async () => {
  for (const serial of SERIALS) {
    const r = results.get(serial)
    const thing = await errorOf(iot.describeThing({ thingName: serial }).promise())
    assert.equal(thing.ok, false, `${serial}: thing still exists`)
    assert.equal(thing.code, 'ResourceNotFoundException')
    assert.equal(thing.statusCode, 404)

    // unregisterThing set the cert INACTIVE and deleted it with forceDelete even though the
    // policy was still attached (model doc of forceDelete: deletes a certificate "if it is
    // inactive and is not attached to an IoT thing").
    const cert = await errorOf(iot.describeCertificate({ certificateId: r.certificateId }).promise())
    assert.equal(cert.ok, false, `${serial}: certificate still exists`)
    assert.equal(cert.code, 'ResourceNotFoundException')
  }
  const left = []
  let nextToken
  do {
    const page = await iot.listThingsInThingGroup({ thingGroupName: THING_GROUP, nextToken }).promise()
    left.push(...page.things.filter((n) => SERIALS.includes(n)))
    nextToken = page.nextToken
  } while (nextToken)
  assert.deepEqual(left, [])

  const targets = await iot.listTargetsForPolicy({ policyName: POLICY }).promise()
  const certArns = new Set(SERIALS.map((s) => results.get(s).certificateArn))
  assert.deepEqual(targets.targets.filter((a) => certArns.has(a)), [], 'deleted certificates are no longer policy targets')
})

t('unregisterThing again answers deleted: true with no principals', { timeout: 120000 }, async () => {
  // The seed treats ResourceNotFoundException from ListThingPrincipals as "already deleted".
  const again = await inBatches(SERIALS, CONCURRENCY, (serialNumber) => seed.unregisterThing({ serialNumber }))
  for (const u of again) assert.deepEqual(u, { deleted: true, thingPrincipals: [] })
})

t('fleetkey serve exits 0 within 15 s of SIGTERM', { timeout: 30000 }, async () => {
  const r = await stopFleetkey(server, 15000)
  assert.ok(r, `did not exit within 15 s of SIGTERM\n${logTail(server)}`)
  assert.equal(r.code, 0, `exit ${r.code} (signal ${r.signal}) after SIGTERM\n${logTail(server)}`)
})
