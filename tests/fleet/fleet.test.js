'use strict'
// Fleet provisioning by claim with AWS's own device SDK: aws-iot-device-sdk-v2's iotidentity client
// (over aws-crt's MQTT 3.1.1 client) against a real `fleetkey serve` with its MQTT broker. aws-sdk v2
// plays the operator: the claim certificate with a policy allowing only the provisioning topics,
// the device policy and the FLEET_PROVISIONING templates (some with a pre-provisioning hook, a
// small HTTP server here).

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const AWS = require('aws-sdk')
const { mqtt, iot, iotidentity } = require('aws-iot-device-sdk-v2')
const { REPO_ROOT, freePort, httpGet, logTail, startFleetkey, stopFleetkey } = require('../seed/fleetkey_server.js')

const POSTGRES_SH = path.join(REPO_ROOT, 'scripts/postgres.sh')

const ACCESS_KEY_ID = 'AKIAFLEETTEST0000001'
const SECRET = crypto.randomBytes(24).toString('base64')
const ROLE = 'arn:aws:iam::000000000000:role/FleetProvisioning'
const QOS = mqtt.QoS.AtLeastOnce

const TEMPLATE_BODY = JSON.stringify({
  Parameters: {
    SerialNumber: { Type: 'String' },
    Site: { Type: 'String', Default: 'unknown' },
    'AWS::IoT::Certificate::Id': { Type: 'String' }
  },
  Resources: {
    thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { 'Fn::Join': ['', ['fleet-', { Ref: 'SerialNumber' }]] } } },
    certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' } },
    policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'FleetDevicePolicy' } }
  },
  DeviceConfiguration: { Site: { Ref: 'Site' }, Fallback: 'https://example.com' }
})

const CLAIM_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: '*' },
    { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: ['arn:aws:iot:*:*:topic/$aws/certificates/create/*', 'arn:aws:iot:*:*:topic/$aws/certificates/create-from-csr/*', 'arn:aws:iot:*:*:topic/$aws/provisioning-templates/*/provision/*'] },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: ['arn:aws:iot:*:*:topicfilter/$aws/certificates/create/*', 'arn:aws:iot:*:*:topicfilter/$aws/certificates/create-from-csr/*', 'arn:aws:iot:*:*:topicfilter/$aws/provisioning-templates/*/provision/*'] }
  ]
})

const DEVICE_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: 'arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}' },
    { Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:*:*:topic/telemetry/${iot:Connection.Thing.ThingName}' }
  ]
})

let server = null
let mqttPort = 0
let ca = ''
let claim = null
let hook = null
const hookCalls = []
const connections = []
let iotClient = null

// FLEETKEY_TEST_STORE=postgres: the server runs on a fresh database of FLEETKEY_TEST_POSTGRES's cluster.
let database = null

before(async () => {
  mqttPort = await freePort()
  const store = process.env.FLEETKEY_TEST_STORE || 'sqlite'
  if (store === 'postgres') {
    if (!process.env.FLEETKEY_TEST_POSTGRES) throw new Error('FLEETKEY_TEST_STORE=postgres needs FLEETKEY_TEST_POSTGRES (scripts/postgres.sh start)')
    database = execFileSync('bash', [POSTGRES_SH, 'create-db'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
  } else if (store !== 'sqlite') {
    throw new Error(`FLEETKEY_TEST_STORE=${store}: expected sqlite or postgres`)
  }
  try {
    server = await startFleetkey({ name: 'fleet', database, accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, mqttPort })
  } catch (err) {
    server = err.server || null
    throw err
  }
  iotClient = new AWS.Iot({ endpoint: server.endpoint, region: 'us-east-1', accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, maxRetries: 0 })
  ca = (await httpGet(`${server.endpoint}/ca.pem`)).body

  // The hook: allows (overriding Site) for /allow, refuses for /refuse, answers after 7 s for /slow.
  hook = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      hookCalls.push({ path: req.url, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) })
      const answer = req.url === '/refuse'
        ? { allowProvisioning: false }
        : { allowProvisioning: true, parameterOverrides: { Site: 'from-hook' } }
      const send = () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(answer)) }
      if (req.url === '/slow') setTimeout(send, 7000).unref(); else send()
    })
  })
  await new Promise((resolve) => hook.listen(0, '127.0.0.1', resolve))
  const hookBase = `http://127.0.0.1:${hook.address().port}`

  await iotClient.createPolicy({ policyName: 'ClaimPolicy', policyDocument: CLAIM_POLICY }).promise()
  await iotClient.createPolicy({ policyName: 'FleetDevicePolicy', policyDocument: DEVICE_POLICY }).promise()
  const created = await iotClient.createKeysAndCertificate({ setAsActive: true }).promise()
  await iotClient.attachPolicy({ policyName: 'ClaimPolicy', target: created.certificateArn }).promise()
  claim = { cert: created.certificatePem, key: created.keyPair.PrivateKey }
  const template = (templateName, extra = {}) => iotClient.createProvisioningTemplate({
    templateName, templateBody: TEMPLATE_BODY, provisioningRoleArn: ROLE, enabled: true, ...extra
  }).promise()
  await template('FleetTemplate')
  await template('DisabledTemplate', { enabled: false })
  await template('HookAllowTemplate', { preProvisioningHook: { targetArn: `${hookBase}/allow` } })
  await template('HookRefuseTemplate', { preProvisioningHook: { targetArn: `${hookBase}/refuse` } })
  await template('HookSlowTemplate', { preProvisioningHook: { targetArn: `${hookBase}/slow` } })
})

after(async () => {
  for (const connection of connections) {
    try { await connection.disconnect() } catch { /* already closed */ }
  }
  if (hook) {
    hook.closeAllConnections()
    hook.close()
  }
  const exited = await stopFleetkey(server)
  if (server && (exited === null || exited.code !== 0)) console.log(logTail(server))
  if (database) execFileSync('bash', [POSTGRES_SH, 'drop-db', database], { stdio: 'ignore' })
})

async function connect (cert, key, clientId) {
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(cert, key)
    .with_certificate_authority(ca)
    .with_endpoint('localhost')
    .with_port(mqttPort)
    .with_client_id(clientId)
    .with_clean_session(true)
    .build()
  const connection = new mqtt.MqttClient().new_connection(config)
  connections.push(connection)
  await connection.connect()
  return connection
}

// Every accepted/rejected answer on one identity client, in arrival order.
class Answers {
  constructor () { this.items = []; this.waiters = [] }
  push (kind, error, response) {
    const item = { kind, error, response }
    const waiter = this.waiters.shift()
    if (waiter) waiter(item); else this.items.push(item)
  }

  next (timeoutMs = 20000) {
    if (this.items.length > 0) return Promise.resolve(this.items.shift())
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within ' + timeoutMs + ' ms')), timeoutMs)
      this.waiters.push((item) => { clearTimeout(timer); resolve(item) })
    })
  }
}

// A claim connection with its iotidentity client subscribed to every answer it will need.
async function claimClient (clientId, templates = ['FleetTemplate']) {
  const connection = await connect(claim.cert, claim.key, clientId)
  const identity = new iotidentity.IotIdentityClient(connection)
  const answers = new Answers()
  const on = (kind) => (error, response) => answers.push(kind, error, response)
  await identity.subscribeToCreateKeysAndCertificateAccepted({}, QOS, on('keys'))
  await identity.subscribeToCreateKeysAndCertificateRejected({}, QOS, on('keys-rejected'))
  await identity.subscribeToCreateCertificateFromCsrAccepted({}, QOS, on('csr'))
  await identity.subscribeToCreateCertificateFromCsrRejected({}, QOS, on('csr-rejected'))
  for (const templateName of templates) {
    await identity.subscribeToRegisterThingAccepted({ templateName }, QOS, on('registered'))
    await identity.subscribeToRegisterThingRejected({ templateName }, QOS, on('register-rejected'))
  }
  return { connection, identity, answers }
}

async function createKeys (client) {
  await client.identity.publishCreateKeysAndCertificate({}, QOS)
  const answer = await client.answers.next()
  assert.equal(answer.kind, 'keys', JSON.stringify(answer.response))
  return answer.response
}

async function registerThing (client, templateName, certificateOwnershipToken, parameters) {
  await client.identity.publishRegisterThing({ templateName, certificateOwnershipToken, parameters }, QOS)
  return client.answers.next()
}

async function assertDevicePublishes (certificatePem, privateKey, thingName) {
  const device = await connect(certificatePem, privateKey, thingName)
  await device.publish(`telemetry/${thingName}`, JSON.stringify({ temperature: 21.5 }), QOS)
  await device.disconnect()
}

test('CreateKeysAndCertificate then RegisterThing: the thing exists, the certificate is ACTIVE, the device reconnects and publishes', async () => {
  const client = await claimClient('claim-keys')
  const keys = await createKeys(client)
  assert.match(keys.certificateId, /^[0-9a-f]{64}$/)
  assert.match(keys.privateKey, /PRIVATE KEY-----/)
  assert.ok(keys.certificateOwnershipToken.length >= 40)
  assert.equal((await iotClient.describeCertificate({ certificateId: keys.certificateId }).promise()).certificateDescription.status, 'PENDING_ACTIVATION')

  const answer = await registerThing(client, 'FleetTemplate', keys.certificateOwnershipToken, { SerialNumber: 'K-1', Site: 'berlin' })

  assert.equal(answer.kind, 'registered', JSON.stringify(answer.response))
  assert.equal(answer.response.thingName, 'fleet-K-1')
  assert.deepEqual(answer.response.deviceConfiguration, { Site: 'berlin', Fallback: 'https://example.com' })
  await client.connection.disconnect()
  assert.equal((await iotClient.describeCertificate({ certificateId: keys.certificateId }).promise()).certificateDescription.status, 'ACTIVE')
  const principals = await iotClient.listThingPrincipals({ thingName: 'fleet-K-1' }).promise()
  assert.equal(principals.principals.length, 1)
  assert.ok(principals.principals[0].endsWith(keys.certificateId))
  await assertDevicePublishes(keys.certificatePem, keys.privateKey, 'fleet-K-1')
})

test('CreateCertificateFromCsr then RegisterThing: the key never leaves the device', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-csr-'))
  const keyPath = path.join(dir, 'device.key')
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyPath])
  const csr = execFileSync('openssl', ['req', '-new', '-key', keyPath, '-subj', '/CN=csr-device'], { encoding: 'utf8' })
  const client = await claimClient('claim-csr')

  await client.identity.publishCreateCertificateFromCsr({ certificateSigningRequest: csr }, QOS)
  const created = await client.answers.next()

  assert.equal(created.kind, 'csr', JSON.stringify(created.response))
  assert.equal(created.response.privateKey, undefined)
  const answer = await registerThing(client, 'FleetTemplate', created.response.certificateOwnershipToken, { SerialNumber: 'C-1' })
  assert.equal(answer.kind, 'registered', JSON.stringify(answer.response))
  assert.equal(answer.response.thingName, 'fleet-C-1')
  await client.connection.disconnect()
  await assertDevicePublishes(created.response.certificatePem, fs.readFileSync(keyPath, 'utf8'), 'fleet-C-1')
})

test('RegisterThing errors: unknown and disabled template, reused token, token of another connection', async () => {
  const client = await claimClient('claim-errors', ['FleetTemplate', 'NoSuchTemplate', 'DisabledTemplate'])
  const other = await claimClient('claim-thief')
  const keys = await createKeys(client)

  const unknown = await registerThing(client, 'NoSuchTemplate', keys.certificateOwnershipToken, { SerialNumber: 'E-1' })
  const disabled = await registerThing(client, 'DisabledTemplate', keys.certificateOwnershipToken, { SerialNumber: 'E-1' })
  const stolen = await registerThing(other, 'FleetTemplate', keys.certificateOwnershipToken, { SerialNumber: 'E-1' })
  const first = await registerThing(client, 'FleetTemplate', keys.certificateOwnershipToken, { SerialNumber: 'E-1' })
  const reused = await registerThing(client, 'FleetTemplate', keys.certificateOwnershipToken, { SerialNumber: 'E-2' })

  assert.equal(unknown.kind, 'register-rejected')
  assert.equal(unknown.response.statusCode, 404)
  assert.equal(unknown.response.errorCode, 'ResourceNotFound')
  assert.equal(disabled.kind, 'register-rejected')
  assert.equal(disabled.response.statusCode, 400)
  assert.equal(stolen.kind, 'register-rejected')
  assert.equal(stolen.response.errorCode, 'InvalidCertificateOwnershipToken')
  assert.equal(first.kind, 'registered', JSON.stringify(first.response))
  assert.equal(reused.kind, 'register-rejected')
  assert.equal(reused.response.statusCode, 400)
  assert.equal(reused.response.errorCode, 'InvalidCertificateOwnershipToken')
  await assert.rejects(iotClient.describeThing({ thingName: 'fleet-E-2' }).promise(), { code: 'ResourceNotFoundException' })
})

test('pre-provisioning hook: called with AWS input; its overrides apply; refusal and timeout are ACCESS_DENIED', async () => {
  const client = await claimClient('claim-hook', ['HookAllowTemplate', 'HookRefuseTemplate', 'HookSlowTemplate'])
  const allowKeys = await createKeys(client)
  const refuseKeys = await createKeys(client)
  const slowKeys = await createKeys(client)

  const allowed = await registerThing(client, 'HookAllowTemplate', allowKeys.certificateOwnershipToken, { SerialNumber: 'H-1', Site: 'device' })
  const refused = await registerThing(client, 'HookRefuseTemplate', refuseKeys.certificateOwnershipToken, { SerialNumber: 'H-2' })
  const started = Date.now()
  const slow = await registerThing(client, 'HookSlowTemplate', slowKeys.certificateOwnershipToken, { SerialNumber: 'H-3' })
  const waited = Date.now() - started

  assert.equal(allowed.kind, 'registered', JSON.stringify(allowed.response))
  assert.equal(allowed.response.deviceConfiguration.Site, 'from-hook')
  const input = hookCalls.find((c) => c.path === '/allow').body
  assert.equal(input.certificateId, allowKeys.certificateId)
  assert.equal(input.clientId, 'claim-hook')
  assert.match(input.claimCertificateId, /^[0-9a-f]{64}$/)
  assert.match(input.templateArn, /:provisioningtemplate\/HookAllowTemplate$/)
  assert.match(input.certificatePem, /BEGIN CERTIFICATE/)
  assert.deepEqual(input.parameters, { SerialNumber: 'H-1', Site: 'device' })
  for (const answer of [refused, slow]) {
    assert.equal(answer.kind, 'register-rejected', JSON.stringify(answer.response))
    assert.equal(answer.response.statusCode, 403)
    assert.equal(answer.response.errorCode, 'AccessDenied')
  }
  assert.ok(waited >= 4500 && waited < 7000, `the slow hook was given up after ${waited} ms`)
  await assert.rejects(iotClient.describeThing({ thingName: 'fleet-H-2' }).promise(), { code: 'ResourceNotFoundException' })
})
