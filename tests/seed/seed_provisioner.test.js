'use strict'
// The seed with least privilege (issue 20): ../shared/seed/register-thing.js, unchanged, registers and
// unregisters 25 devices with a key made by `fleetkey keys create --policy provisioner` (policies/provisioner.json:
// CreateKeysAndCertificate, RegisterThing, and retiring things and their certificates), not the root key.
//
//   bash tests/seed/run.sh        (npm ci if needed, then NODE_PATH=node_modules node --test)
//
// What the seed's README asks to exist beforehand (the NewDevice thing type, the NewDevices group and
// DefaultNewDevicePolicy) is made with the root key, as seed.test.js does; the template needs no setting up,
// the seed sends it in each RegisterThing call. The same key is then refused, with aws-sdk's
// AccessDeniedException (403) in AWS's words, what its policy does not give (DeleteCACertificate on a
// registered CA, DeletePolicy, CreateThingGroup), and the root key sees that nothing changed.
//
// As seed.test.js: NODE_PATH makes the seed file load this project's aws-sdk, whose AWS.config (set here to the
// provisioner's key) the seed's `new AWS.Iot(...)` reads when it loads; every test is skipped, with the reason,
// without the seed file, except in CI (seed_file.js). FLEETKEY_TEST_STORE=postgres runs the server on a fresh
// database on the FLEETKEY_TEST_POSTGRES server; FLEETKEY_KEEP_DATA keeps the data directory and server log.

const { after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { DLL, errorOf, finishServer, logTail, startOnTestStore, stopFleetkey } = require('./fleetkey_server')
const { SEED_FILE, checkSeedSdk, seedSuite } = require('./seed_file')

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1'

const OPENSSL = fs.existsSync('/usr/bin/openssl') ? '/usr/bin/openssl' : 'openssl'
const REGION = 'eu-west-1'
const ACCOUNT_ID = '000000000000' // design §2: default account id in ARNs
const ROOT_KEY_ID = 'AKIDFLEETKEYPROV0001'
const ROOT_SECRET = crypto.randomBytes(20).toString('hex')
const RUN = crypto.randomBytes(3).toString('hex')
const SERIALS = Array.from({ length: 25 }, (_, i) => `SN-${RUN}-P${String(i + 1).padStart(3, '0')}`)
const CONCURRENCY = 5

// Names fixed by the seed's template (register-thing-template-body.json) and its README.
const THING_TYPE = 'NewDevice'
const THING_GROUP = 'NewDevices'
const POLICY = 'DefaultNewDevicePolicy'

const arn = (kind, name) => `arn:aws:iot:${REGION}:${ACCOUNT_ID}:${kind}/${name}`

let server = null
let AWS = null
let root = null // the root key's client: setting up and checking
let provisioner = null // { accessKeyId, secretAccessKey } from `fleetkey keys create --policy provisioner`
let asProvisioner = null // the test's own client with the provisioner's key (AWS.config, as the seed's)
let seed = null
let caId = null
const suite = seedSuite()
const t = suite.test
const results = new Map() // serial -> registerThing result

// ------------------------------------------------------------------------------ helpers

// `fleetkey ARGS` on the server's fleet (its data directory, and its database on PostgreSQL).
function fleetkey (...args) {
  const store = server.database ? ['--database', server.database] : []
  const env = { ...process.env }
  delete env.FLEETKEY_ROOT_ACCESS_KEY_ID
  delete env.FLEETKEY_ROOT_SECRET_ACCESS_KEY
  return execFileSync('dotnet', [DLL, ...args, '--data', server.dataDir, ...store], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] })
}

async function inBatches (items, size, fn) {
  const out = []
  for (let i = 0; i < items.length; i += size) {
    out.push(...await Promise.all(items.slice(i, i + size).map(fn)))
  }
  return out
}

// AWS's wording of an implicit deny (IAM User Guide, troubleshoot_access-denied.html).
const notAllowed = (action, resource) =>
  `User: arn:aws:iam::${ACCOUNT_ID}:user/${provisioner.accessKeyId} is not authorized to perform: ${action} on resource: ${resource} ` +
  `because no identity-based policy allows the ${action} action`

// ------------------------------------------------------------------------------ setup

suite.setUp(async () => {
  try {
    server = await startOnTestStore({ name: 'seed-provisioner', accessKeyId: ROOT_KEY_ID, secretAccessKey: ROOT_SECRET })
  } catch (err) {
    server = err.server || null
    throw err
  }

  const created = fleetkey('keys', 'create', '--description', 'seed provisioner', '--policy', 'provisioner')
  const values = Object.fromEntries(created.split('\n').filter((l) => l.includes(' = ')).map((l) => l.split(' = ')))
  provisioner = { accessKeyId: values.aws_access_key_id, secretAccessKey: values.aws_secret_access_key }
  assert.match(provisioner.accessKeyId, /^AKIA[A-Z2-7]{16}$/)

  checkSeedSdk()
  AWS = require('aws-sdk')
  AWS.config.update({
    credentials: new AWS.Credentials(provisioner.accessKeyId, provisioner.secretAccessKey),
    region: REGION
  })
  AWS.config.iot = { endpoint: server.endpoint }
  process.env.region = REGION
  seed = require(SEED_FILE)
  asProvisioner = new AWS.Iot({ region: REGION })
  root = new AWS.Iot({ region: REGION, credentials: new AWS.Credentials(ROOT_KEY_ID, ROOT_SECRET) })
})

after(() => finishServer(server, suite.failures > 0))

// ------------------------------------------------------------------------------ tests

t('`fleetkey keys list` shows the key with the provisioner policy only', { timeout: 60000 }, async () => {
  const line = fleetkey('keys', 'list').split('\n').find((l) => l.startsWith(`${provisioner.accessKeyId}\t`))
  assert.ok(line, `${provisioner.accessKeyId} is not listed`)
  const [, status, , policies] = line.split('\t')
  assert.deepEqual([status, policies], ['Active', 'provisioner'])
})

t('the root key creates NewDevice, NewDevices, DefaultNewDevicePolicy and an inactive CA', { timeout: 60000 }, async () => {
  // Seed README: "Make sure the NewDevice thing type, the group and the policy exist beforehand."
  await root.createThingType({ thingTypeName: THING_TYPE, thingTypeProperties: { searchableAttributes: ['serialNumber'] } }).promise()
  await root.createThingGroup({ thingGroupName: THING_GROUP }).promise()
  const document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', '${iot:Connection.Thing.ThingName}') }] }
  await root.createPolicy({ policyName: POLICY, policyDocument: JSON.stringify(document) }).promise()

  // A CA of the operator's (SNI_ONLY needs no verification certificate), INACTIVE so that DeleteCACertificate
  // would succeed on it were the provisioner's refusal to let the call through.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fleetkey-seed-ca-${RUN}-`))
  try {
    execFileSync(OPENSSL, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.pem'), '-days', '30', '-subj', `/CN=seed-provisioner-${RUN}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'ignore' })
    const ca = await root.registerCACertificate({
      caCertificate: fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'), certificateMode: 'SNI_ONLY', setAsActive: false
    }).promise()
    caId = ca.certificateId
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  assert.match(caId, /^[0-9a-f]{64}$/)
})

t(`registerThing for ${SERIALS.length} serial numbers with the provisioner key, ${CONCURRENCY} at a time`, { timeout: 300000 }, async () => {
  const out = await inBatches(SERIALS, CONCURRENCY, async (serialNumber) => [serialNumber, await seed.registerThing({ serialNumber })])
  for (const [serial, r] of out) results.set(serial, r)
  assert.equal(new Set([...results.values()].map((r) => r.certificateId)).size, SERIALS.length, 'every registration has its own certificate')
  for (const [serial, r] of results) {
    assert.deepEqual(r.resourceArns, { thing: arn('thing', serial), certificate: r.certificateArn, policy: arn('policy', POLICY) }, serial)
    assert.ok(r.certificatePem && r.privateKey, `${serial}: certificate and private key returned`)
  }
})

t('the root key sees every device registered: type, group, active certificate, policy', { timeout: 120000 }, async () => {
  await inBatches(SERIALS, CONCURRENCY, async (serial) => {
    const r = results.get(serial)
    assert.ok(r, `no registerThing result for ${serial}`)
    const thing = await root.describeThing({ thingName: serial }).promise()
    assert.deepEqual([thing.thingTypeName, thing.attributes], [THING_TYPE, { serialNumber: serial }])
    const groups = await root.listThingGroupsForThing({ thingName: serial }).promise()
    assert.deepEqual(groups.thingGroups.map((g) => g.groupName), [THING_GROUP])
    const principals = await root.listThingPrincipals({ thingName: serial }).promise()
    assert.deepEqual(principals.principals, [r.certificateArn])
    const cert = await root.describeCertificate({ certificateId: r.certificateId }).promise()
    assert.equal(cert.certificateDescription.status, 'ACTIVE')
    const attached = await root.listAttachedPolicies({ target: r.certificateArn }).promise()
    assert.deepEqual(attached.policies.map((p) => p.policyName), [POLICY])
  })
})

t('the provisioner key is refused what its policy does not give: AccessDeniedException (403)', { timeout: 60000 }, async () => {
  const cases = [
    ['iot:DeleteCACertificate', arn('cacert', caId), () => asProvisioner.deleteCACertificate({ certificateId: caId }).promise()],
    ['iot:DeletePolicy', arn('policy', POLICY), () => asProvisioner.deletePolicy({ policyName: POLICY }).promise()],
    ['iot:CreateThingGroup', arn('thinggroup', `${THING_GROUP}-${RUN}`), () => asProvisioner.createThingGroup({ thingGroupName: `${THING_GROUP}-${RUN}` }).promise()]
  ]
  for (const [action, resource, call] of cases) {
    const refused = await errorOf(call())
    assert.deepEqual([refused.ok, refused.code, refused.statusCode], [false, 'AccessDeniedException', 403], `${action}: ${refused.message}`)
    assert.equal(refused.message, notAllowed(action, resource))
  }

  // Nothing changed, as the root key sees it.
  const ca = await root.describeCACertificate({ certificateId: caId }).promise()
  assert.equal(ca.certificateDescription.status, 'INACTIVE')
  assert.equal((await root.getPolicy({ policyName: POLICY }).promise()).policyName, POLICY)
  const group = await errorOf(root.describeThingGroup({ thingGroupName: `${THING_GROUP}-${RUN}` }).promise())
  assert.equal(group.code, 'ResourceNotFoundException')
})

t(`unregisterThing for the ${SERIALS.length} serial numbers with the provisioner key, ${CONCURRENCY} at a time`, { timeout: 300000 }, async () => {
  const out = await inBatches(SERIALS, CONCURRENCY, async (serialNumber) => [serialNumber, await seed.unregisterThing({ serialNumber })])
  for (const [serial, u] of out) {
    assert.equal(u.deleted, true, `${serial}: deleted`)
    assert.deepEqual(u.thingPrincipals, [results.get(serial).certificateArn], `${serial}: thingPrincipals`)
  }
})

t('nothing is left: the root key finds no thing or certificate of the run', { timeout: 120000 }, async () => {
  await inBatches(SERIALS, CONCURRENCY, async (serial) => {
    const thing = await errorOf(root.describeThing({ thingName: serial }).promise())
    assert.deepEqual([thing.ok, thing.code], [false, 'ResourceNotFoundException'], `${serial}: thing`)
    const cert = await errorOf(root.describeCertificate({ certificateId: results.get(serial).certificateId }).promise())
    assert.deepEqual([cert.ok, cert.code], [false, 'ResourceNotFoundException'], `${serial}: certificate`)
  })
})

t("`fleetkey audit --key` holds the seed's writes and the refusals under the provisioner key, not its reads", { timeout: 60000 }, async () => {
  const records = fleetkey('audit', '--key', provisioner.accessKeyId, '--format', 'jsonl').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  const counts = {}
  for (const r of records) {
    const key = `${r.operation} ${r.status} ${r.errorCode ?? '-'}`
    counts[key] = (counts[key] ?? 0) + 1
  }
  const n = SERIALS.length
  assert.deepEqual(counts, {
    'CreateKeysAndCertificate 200 -': n,
    'RegisterThing 200 -': n,
    'DetachThingPrincipal 200 -': n,
    'UpdateCertificate 200 -': n,
    'DeleteCertificate 200 -': n,
    'DeleteThing 200 -': n,
    'DeleteCACertificate 403 AccessDeniedException': 1,
    'DeletePolicy 403 AccessDeniedException': 1,
    'CreateThingGroup 403 AccessDeniedException': 1
  })
})

t('fleetkey serve exits 0 within 15 s of SIGTERM', { timeout: 30000 }, async () => {
  const r = await stopFleetkey(server, 15000)
  assert.ok(r, `did not exit within 15 s of SIGTERM\n${logTail(server)}`)
  assert.equal(r.code, 0, `exit ${r.code} (signal ${r.signal}) after SIGTERM\n${logTail(server)}`)
})
