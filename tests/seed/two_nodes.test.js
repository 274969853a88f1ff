'use strict'
// Two nodes, one fleet (issue 4): two `fleetkey serve` processes share one PostgreSQL database, and
// the seed's register-thing.js, unchanged, runs against both of them at once.
//
//   FLEETKEY_TEST_POSTGRES=postgres://user@host:port/db bash tests/seed/run.sh
//
// What it checks:
//   - On a FRESH database (CREATE DATABASE fk_two_nodes_<random> through psql, dropped at the end)
//     the two nodes start together: they share the migrations, the CA and the root key.
//   - The seed module is loaded twice, once per node: it builds `new AWS.Iot()` when it loads, from
//     AWS.config.iot as it is at that moment, so each copy is bound to one node. Every request an
//     aws-sdk client sends is recorded (AWS.events), which proves which node each seed call reached.
//   - 50 serial numbers, 10 at a time: registerThing on node A for even and node B for odd indexes.
//   - Before unregistering, for every serial, both nodes (the test's own clients) answer the same
//     DescribeThing, ListThingPrincipals, ListPrincipalThings, DescribeCertificate,
//     ListThingGroupsForThing and ListAttachedPolicies, and the answers are right: type NewDevice,
//     group NewDevices, certificate ACTIVE with the PEM registerThing returned, policy attached.
//     Fleet-wide lists (things, certificates, group members, policy targets) are the same on both
//     nodes and hold exactly the 50 registrations; a ListThings pagination that alternates nodes
//     page by page yields the same list.
//   - unregisterThing for every serial on the OTHER node, 10 at a time; afterwards neither node
//     knows any of the things or certificates (ResourceNotFoundException) and every list is empty.
//   - No HTTP exchange of the run got a 5xx, except 503 ServiceUnavailableException ("the database
//     is busy; retry the request"), which the seed's aws-sdk retries as it would in production;
//     how many there were is printed as a diagnostic.
//   - Both nodes exit 0 within 15 s of SIGTERM.
// The CreateThing and UpdateThing races between two nodes are in tests/compat/test_postgres_nodes.py.
//
// Skipped when FLEETKEY_TEST_POSTGRES is unset, or (each test, with the reason) when the seed beside
// the repository is (seed_file.js), except in CI (CI=true), where either is a failure.
// Needs psql (PATH or /usr/lib/postgresql/*/bin/psql) and the Release build (or FLEETKEY_DLL);
// FLEETKEY_KEEP_DATA keeps the database, the data directories and the server logs.

const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { DLL, REPO_ROOT, errorOf, httpGet, logTail, startFleetkey, stopFleetkey } = require('./fleetkey_server')
const { SEED_FILE, checkSeedSdk, seedSuite } = require('./seed_file')

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1'

const POSTGRES = process.env.FLEETKEY_TEST_POSTGRES
const IN_CI = (process.env.CI || '').toLowerCase() === 'true'

const REGION = 'eu-west-1'
const ACCOUNT_ID = '000000000000' // design §2: default account id in ARNs
const ACCESS_KEY_ID = 'AKIDFLEETKEYTWONODES'
const SECRET_ACCESS_KEY = crypto.randomBytes(20).toString('hex')
const RUN = crypto.randomBytes(4).toString('hex')
const DATABASE = `fk_two_nodes_${RUN}`
const SERIALS = Array.from({ length: 50 }, (_, i) => `SN-${RUN}-${String(i).padStart(3, '0')}`)
const CONCURRENCY = 10

// Names fixed by the seed's template (register-thing-template-body.json) and its README.
const THING_TYPE = 'NewDevice'
const THING_GROUP = 'NewDevices'
const POLICY = 'DefaultNewDevicePolicy'

const arn = (kind, name) => `arn:aws:iot:${REGION}:${ACCOUNT_ID}:${kind}/${name}`

const POLICY_DOCUMENT = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', '${iot:Connection.Thing.ThingName}') },
    { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: arn('topic', 'devices/${iot:Connection.Thing.ThingName}/*') }
  ]
}

// Serial i registers on node i % 2 and unregisters on the other one.
const registerNode = (i) => i % 2
const unregisterNode = (i) => 1 - (i % 2)

if (!POSTGRES && !IN_CI) {
  test('two fleetkey nodes on one PostgreSQL', { skip: 'FLEETKEY_TEST_POSTGRES is not set' }, () => {})
} else if (!POSTGRES) {
  test('FLEETKEY_TEST_POSTGRES is set (required in CI)', () => {
    assert.fail('FLEETKEY_TEST_POSTGRES must name a PostgreSQL server in CI (scripts/postgres.sh start)')
  })
} else {
  defineTests()
}

// ------------------------------------------------------------------------------ helpers

function findPsql () {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, 'psql')
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {}
  }
  let versions = []
  try {
    versions = fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
  } catch {}
  for (const v of versions) {
    const candidate = `/usr/lib/postgresql/${v}/bin/psql`
    if (fs.existsSync(candidate)) return candidate
  }
  throw new Error('psql not found on PATH or in /usr/lib/postgresql/*/bin')
}

// Runs one SQL statement on the server named by FLEETKEY_TEST_POSTGRES (its own database).
function psql (sql) {
  return new Promise((resolve, reject) => {
    execFile(findPsql(), [POSTGRES, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql],
      { encoding: 'utf8', env: { ...process.env, PGCONNECT_TIMEOUT: '10' } },
      (err, stdout, stderr) => err ? reject(new Error(`psql -c ${JSON.stringify(sql)} failed: ${stderr || err.message}`)) : resolve(stdout))
  })
}

// FLEETKEY_TEST_POSTGRES with its database replaced by `name`.
function databaseUrl (name) {
  if (!/^postgres(ql)?:\/\//i.test(POSTGRES)) {
    throw new Error('FLEETKEY_TEST_POSTGRES must be a postgres:// URL for this test (it creates a database next to the named one)')
  }
  const url = new URL(POSTGRES)
  url.pathname = `/${name}`
  return url.toString()
}

// Runs fn over items with `size` calls in flight; returns [{ ok, value } | { ok: false, error }] in order.
async function pool (items, size, fn) {
  const out = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      try {
        out[i] = { ok: true, value: await fn(items[i], i) }
      } catch (error) {
        out[i] = { ok: false, error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker))
  return out
}

function assertAllOk (outcomes, what) {
  const failed = outcomes.map((o, i) => [SERIALS[i], o]).filter(([, o]) => !o.ok)
  assert.deepEqual(failed.map(([s, o]) => `${s}: ${o.error && (o.error.code || o.error.message)}`), [], `${what} failed`)
}

// Every page of a list operation; `pick` takes the items out of a page.
async function allPages (call, params, tokenIn, tokenOut, pick) {
  const items = []
  let token
  do {
    const page = await call({ ...params, ...(token ? { [tokenIn]: token } : {}) })
    items.push(...pick(page))
    token = page[tokenOut]
  } while (token)
  return items
}

// ------------------------------------------------------------------------------ the test

function defineTests () {
  const nodes = [] // [A, B]: { name, proc, endpoint, port, dataDir, logPath, exited, done }
  let dbUrl = null
  let dbCreated = false
  let AWS = null
  let seeds = [] // [seed bound to A, seed bound to B]
  let iots = [] // the test's own clients: [A, B]
  // Counts failures so the after hook knows whether to keep the logs; skips without the seed.
  const suite = seedSuite()
  const t = suite.test
  const sent = [] // every aws-sdk request, once it is done: { client, operation, params, port, status, code }
  const attempts = [] // every HTTP exchange, retries included: { seed, operation, port, status }
  const results = new Map() // serial -> registerThing result
  const byCertificateId = new Map() // certificateId -> serial

  async function startNode (name) {
    try {
      const node = await startFleetkey({ name, database: dbUrl, accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, healthTimeoutMs: 90000 })
      nodes.push(node)
      return node
    } catch (err) {
      if (err.server) nodes.push(err.server)
      throw err
    }
  }

  const stopNode = stopFleetkey

  const nodeOfPort = (port) => nodes.findIndex((n) => n.port === port)
  // The seed's requests (not the test's own clients') for one serial, as [operation, node index].
  function seedRequestsFor (serial) {
    const certificateId = results.get(serial) && results.get(serial).certificateId
    return sent
      .filter((r) => r.client === 'seed')
      .filter((r) => r.params.thingName === serial ||
        (r.params.parameters && r.params.parameters.ThingName === serial) ||
        (certificateId && r.params.certificateId === certificateId))
      .map((r) => [r.operation, nodeOfPort(r.port)])
  }

  suite.setUp(setUp)

  async function setUp () {
    if (!fs.existsSync(DLL)) {
      throw new Error(`${DLL} not found: build with \`dotnet build Fleetkey.slnx -c Release\` in ${REPO_ROOT} or set FLEETKEY_DLL`)
    }
    checkSeedSdk()

    dbUrl = databaseUrl(DATABASE)
    await psql(`CREATE DATABASE ${DATABASE}`)
    dbCreated = true

    // Both nodes start together on the empty database: one applies the migrations and makes the CA,
    // the other waits for the migration lock and then uses what the first one made.
    await Promise.all([startNode('A'), startNode('B')])
    nodes.sort((x, y) => x.name.localeCompare(y.name))

    AWS = require('aws-sdk')
    // The seed's clients keep aws-sdk's default retries, as the seed runs in production: a node
    // answers 503 ServiceUnavailableException ("the database is busy; retry the request") when a
    // transaction lost its serialization race more times than the node retries it. Every attempt
    // is recorded, and a later test asserts that no attempt got any other server error.
    AWS.config.update({ credentials: new AWS.Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), region: REGION })
    process.env.region = REGION

    // The test's own clients do not retry: what they see is what the node answered.
    iots = nodes.map((n) => new AWS.Iot({ endpoint: n.endpoint, maxRetries: 0 }))
    AWS.events.on('httpDone', (resp) => {
      const req = resp.request
      attempts.push({ seed: !iots.includes(req.service), operation: req.operation, port: Number(req.httpRequest.endpoint.port), status: resp.httpResponse.statusCode })
    })
    AWS.events.on('complete', (resp) => {
      const req = resp.request
      const own = iots.indexOf(req.service)
      sent.push({
        client: own >= 0 ? `test-${nodes[own].name}` : 'seed',
        operation: req.operation,
        params: req.params || {},
        port: Number(req.httpRequest.endpoint.port),
        status: resp.httpResponse && resp.httpResponse.statusCode,
        code: resp.error ? resp.error.code : null
      })
    })

    // One seed module per node: it reads AWS.config.iot when it loads (`new AWS.Iot(...)` at the top).
    seeds = []
    for (const node of nodes) {
      AWS.config.iot = { endpoint: node.endpoint }
      seeds.push(require(SEED_FILE))
      delete require.cache[require.resolve(SEED_FILE)]
    }
    delete AWS.config.iot
  }

  after(async () => {
    await Promise.all(nodes.map((n) => stopNode(n)))
    const keep = suite.failures > 0 || process.env.FLEETKEY_KEEP_DATA
    if (suite.failures > 0) for (const n of nodes) console.log(logTail(n, 80))
    if (keep) {
      console.log(`kept ${nodes.map((n) => `${n.dataDir} ${n.logPath}`).join(' ')}`)
    } else {
      for (const n of nodes) {
        fs.rmSync(n.dataDir, { recursive: true, force: true })
        fs.rmSync(n.logPath, { force: true })
      }
    }
    if (dbCreated && process.env.FLEETKEY_KEEP_DATA) {
      console.log(`kept database ${DATABASE}`)
    } else if (dbCreated) {
      await psql(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`)
    }
  })

  // ---------------------------------------------------------------------------- tests

  t('both nodes run on the fresh database and serve the same CA chain', { timeout: 30000 }, async () => {
    assert.equal(nodes.length, 2)
    assert.notEqual(nodes[0].port, nodes[1].port)
    const chains = await Promise.all(nodes.map((n) => httpGet(`${n.endpoint}/ca.pem`)))
    for (const c of chains) {
      assert.equal(c.status, 200)
      assert.match(c.body, /-----BEGIN CERTIFICATE-----/)
    }
    assert.equal(chains[0].body, chains[1].body, 'the nodes serve different CA chains')

    // Fresh: nothing but what this test makes.
    for (const iot of iots) {
      assert.deepEqual((await iot.listThings({}).promise()).things, [])
      assert.deepEqual((await iot.listCertificates({}).promise()).certificates, [])
    }
  })

  t('each copy of the seed module is bound to its own node', { timeout: 30000 }, async () => {
    assert.equal(seeds.length, 2)
    assert.notEqual(seeds[0], seeds[1], 'the seed module was loaded only once')
    assert.notEqual(seeds[0].registerThing, seeds[1].registerThing)
    for (const iot of iots) assert.equal(typeof iot.endpoint.port, 'number')
    assert.deepEqual(iots.map((iot) => iot.endpoint.port), nodes.map((n) => n.port))

    // unregisterThing of an unknown serial sends one ListThingPrincipals (ResourceNotFoundException,
    // which the seed reports as already deleted); the recorded request shows where each copy sent it.
    for (const [i, seed] of seeds.entries()) {
      const probe = `probe-${RUN}-${nodes[i].name}`
      const before = sent.length
      assert.deepEqual(await seed.unregisterThing({ serialNumber: probe }), { deleted: true, thingPrincipals: [] })
      const requests = sent.slice(before)
      assert.deepEqual(requests.map((r) => [r.client, r.operation, r.params.thingName, r.status, r.code]),
        [['seed', 'listThingPrincipals', probe, 404, 'ResourceNotFoundException']])
      assert.equal(nodeOfPort(requests[0].port), i, `seed copy ${i} sent its request to the wrong node`)
    }
  })

  t('the thing type, group and policy made on one node are the same on the other', { timeout: 60000 }, async () => {
    // Seed README: "Make sure the NewDevice thing type, the group and the policy exist beforehand."
    const [a, b] = iots
    await a.createThingType({ thingTypeName: THING_TYPE, thingTypeProperties: { searchableAttributes: ['serialNumber'] } }).promise()
    await b.createThingGroup({ thingGroupName: THING_GROUP }).promise()
    await a.createPolicy({ policyName: POLICY, policyDocument: JSON.stringify(POLICY_DOCUMENT) }).promise()

    const type = await Promise.all(iots.map((iot) => iot.describeThingType({ thingTypeName: THING_TYPE }).promise()))
    assert.equal(type[0].thingTypeArn, arn('thingtype', THING_TYPE))
    assert.deepEqual(type[0], type[1])
    const group = await Promise.all(iots.map((iot) => iot.describeThingGroup({ thingGroupName: THING_GROUP }).promise()))
    assert.equal(group[0].thingGroupArn, arn('thinggroup', THING_GROUP))
    assert.deepEqual(group[0], group[1])
    const policy = await Promise.all(iots.map((iot) => iot.getPolicy({ policyName: POLICY }).promise()))
    assert.equal(policy[0].policyArn, arn('policy', POLICY))
    assert.deepEqual(JSON.parse(policy[0].policyDocument), POLICY_DOCUMENT)
    assert.deepEqual(policy[0], policy[1])
  })

  t(`registerThing for ${SERIALS.length} serial numbers on alternating nodes, ${CONCURRENCY} at a time`, { timeout: 600000 }, async () => {
    const outcomes = await pool(SERIALS, CONCURRENCY, (serialNumber, i) => seeds[registerNode(i)].registerThing({ serialNumber }))
    assertAllOk(outcomes, 'registerThing')
    for (const [i, o] of outcomes.entries()) {
      results.set(SERIALS[i], o.value)
      byCertificateId.set(o.value.certificateId, SERIALS[i])
    }
    assert.equal(byCertificateId.size, SERIALS.length, 'every registration has its own certificate')

    // Each serial's CreateKeysAndCertificate and RegisterThing went to the node it was given to.
    const keys = sent.filter((r) => r.client === 'seed' && r.operation === 'createKeysAndCertificate')
    assert.deepEqual([0, 1].map((n) => keys.filter((r) => nodeOfPort(r.port) === n && r.status === 200).length),
      [SERIALS.length / 2, SERIALS.length / 2])
    for (const [i, serial] of SERIALS.entries()) {
      assert.deepEqual(seedRequestsFor(serial), [['registerThing', registerNode(i)]], `${serial}: the seed's requests`)
    }
  })

  for (const [i, serial] of SERIALS.entries()) {
    t(`${serial} (registered on ${'AB'[registerNode(i)]}): both nodes give the same, right answers`, { timeout: 60000 }, async () => {
      const r = results.get(serial)
      assert.ok(r, `no registerThing result for ${serial}`)
      assert.deepEqual(r.resourceArns, { thing: arn('thing', serial), certificate: r.certificateArn, policy: arn('policy', POLICY) })
      assert.equal(r.certificateArn, arn('cert', r.certificateId))

      const ask = async (iot) => ({
        thing: await iot.describeThing({ thingName: serial }).promise(),
        principals: await iot.listThingPrincipals({ thingName: serial }).promise(),
        principalThings: await iot.listPrincipalThings({ principal: r.certificateArn }).promise(),
        certificate: await iot.describeCertificate({ certificateId: r.certificateId }).promise(),
        groups: await iot.listThingGroupsForThing({ thingName: serial }).promise(),
        policies: await iot.listAttachedPolicies({ target: r.certificateArn }).promise()
      })
      const [fromA, fromB] = await Promise.all(iots.map(ask))
      assert.deepEqual(fromA, fromB, 'nodes A and B disagree')

      const { thing, principals, principalThings, certificate, groups, policies } = fromA
      assert.equal(thing.thingName, serial)
      assert.equal(thing.thingArn, arn('thing', serial))
      assert.equal(thing.thingTypeName, THING_TYPE)
      assert.deepEqual(thing.attributes, { serialNumber: serial })
      assert.deepEqual(principals.principals, [r.certificateArn])
      assert.deepEqual(principalThings.things, [serial])
      const d = certificate.certificateDescription
      assert.equal(d.certificateId, r.certificateId)
      assert.equal(d.certificateArn, r.certificateArn)
      assert.equal(d.status, 'ACTIVE')
      assert.equal(d.certificatePem.trim(), r.certificatePem.trim(), 'DescribeCertificate returns another PEM than registerThing did')
      assert.deepEqual(groups.thingGroups.map((g) => [g.groupName, g.groupArn]), [[THING_GROUP, arn('thinggroup', THING_GROUP)]])
      assert.deepEqual(policies.policies.map((p) => [p.policyName, p.policyArn]), [[POLICY, arn('policy', POLICY)]])
    })
  }

  t('fleet-wide lists are the same on both nodes and hold exactly the registrations', { timeout: 120000 }, async () => {
    const certArns = SERIALS.map((s) => results.get(s).certificateArn).sort()
    const certIds = SERIALS.map((s) => results.get(s).certificateId).sort()
    const lists = async (iot) => ({
      things: await allPages((p) => iot.listThings(p).promise(), { maxResults: 7 }, 'nextToken', 'nextToken', (p) => p.things),
      certificates: await allPages((p) => iot.listCertificates(p).promise(), { pageSize: 7 }, 'marker', 'nextMarker', (p) => p.certificates),
      members: await allPages((p) => iot.listThingsInThingGroup(p).promise(), { thingGroupName: THING_GROUP, maxResults: 7 }, 'nextToken', 'nextToken', (p) => p.things),
      targets: await allPages((p) => iot.listTargetsForPolicy(p).promise(), { policyName: POLICY, pageSize: 7 }, 'marker', 'nextMarker', (p) => p.targets)
    })
    const [fromA, fromB] = await Promise.all(iots.map(lists))
    assert.deepEqual(fromA, fromB, 'nodes A and B list different things')

    assert.deepEqual(fromA.things.map((x) => x.thingName).sort(), [...SERIALS].sort())
    for (const x of fromA.things) assert.equal(x.thingTypeName, THING_TYPE)
    assert.deepEqual(fromA.certificates.map((c) => c.certificateId).sort(), certIds)
    for (const c of fromA.certificates) assert.equal(c.status, 'ACTIVE')
    assert.deepEqual([...fromA.members].sort(), [...SERIALS].sort())
    assert.deepEqual([...fromA.targets].sort(), certArns)

    // A pagination token from one node works on the other: ask A and B in turn, page by page.
    const alternating = []
    let nextToken
    let turn = 0
    do {
      const page = await iots[turn++ % 2].listThings({ maxResults: 7, ...(nextToken ? { nextToken } : {}) }).promise()
      alternating.push(...page.things)
      nextToken = page.nextToken
    } while (nextToken)
    assert.ok(turn > 2, 'the alternating listing took only one or two pages')
    assert.deepEqual(alternating, fromA.things)
  })

  t(`unregisterThing for the ${SERIALS.length} serial numbers on the other node, ${CONCURRENCY} at a time`, { timeout: 600000 }, async () => {
    const outcomes = await pool(SERIALS, CONCURRENCY, (serialNumber, i) => seeds[unregisterNode(i)].unregisterThing({ serialNumber }))
    assertAllOk(outcomes, 'unregisterThing')
    for (const [i, serial] of SERIALS.entries()) {
      // The seed returns the thing's principals as listed before deleting: the certificate.
      assert.deepEqual(outcomes[i].value, { deleted: true, thingPrincipals: [results.get(serial).certificateArn] }, serial)
      const other = unregisterNode(i)
      assert.deepEqual(seedRequestsFor(serial), [
        ['registerThing', registerNode(i)],
        ['listThingPrincipals', other],
        ['detachThingPrincipal', other],
        ['updateCertificate', other],
        ['deleteCertificate', other],
        ['deleteThing', other]
      ], `${serial}: the seed's requests`)
    }
  })

  t('nothing is left on either node', { timeout: 300000 }, async () => {
    const outcomes = await pool(SERIALS, CONCURRENCY, async (serial) => {
      const r = results.get(serial)
      const problems = []
      for (const [n, iot] of iots.entries()) {
        const thing = await errorOf(iot.describeThing({ thingName: serial }).promise())
        if (thing.ok || thing.code !== 'ResourceNotFoundException' || thing.statusCode !== 404) {
          problems.push(`${serial}: DescribeThing on ${nodes[n].name}: ${thing.ok ? 'still exists' : `${thing.statusCode} ${thing.code}`}`)
        }
        const cert = await errorOf(iot.describeCertificate({ certificateId: r.certificateId }).promise())
        if (cert.ok || cert.code !== 'ResourceNotFoundException' || cert.statusCode !== 404) {
          problems.push(`${serial}: DescribeCertificate on ${nodes[n].name}: ${cert.ok ? 'still exists' : `${cert.statusCode} ${cert.code}`}`)
        }
      }
      return problems
    })
    assertAllOk(outcomes, 'the describe calls')
    assert.deepEqual(outcomes.flatMap((o) => o.value), [])

    for (const iot of iots) {
      assert.deepEqual(await allPages((p) => iot.listThings(p).promise(), {}, 'nextToken', 'nextToken', (p) => p.things), [])
      assert.deepEqual((await iot.listCertificates({}).promise()).certificates, [])
      assert.deepEqual((await iot.listThingsInThingGroup({ thingGroupName: THING_GROUP }).promise()).things, [])
      assert.deepEqual((await iot.listTargetsForPolicy({ policyName: POLICY }).promise()).targets, [])
    }
  })

  t('no request got a server error other than 503 ServiceUnavailableException', {}, async (ctx) => {
    assert.ok(attempts.length > SERIALS.length * 7, `only ${attempts.length} HTTP exchanges were recorded`)
    const errors = attempts.filter((a) => a.status >= 500 && !(a.seed && a.status === 503))
    assert.deepEqual(errors.map((a) => `${a.seed ? 'seed' : 'test'} ${a.operation} on ${nodes[nodeOfPort(a.port)].name} -> ${a.status}`), [])
    const busy = attempts.filter((a) => a.status === 503)
    ctx.diagnostic(`${busy.length} of ${attempts.filter((a) => a.seed).length} seed requests were answered 503 and retried by aws-sdk` +
      (busy.length ? `: ${[...new Set(busy.map((a) => a.operation))].join(', ')}` : ''))
  })

  t('both nodes exit 0 within 15 s of SIGTERM', { timeout: 60000 }, async () => {
    const exits = await Promise.all(nodes.map((n) => stopNode(n, 15000)))
    for (const [i, r] of exits.entries()) {
      assert.ok(r, `node ${nodes[i].name} did not exit within 15 s of SIGTERM\n${logTail(nodes[i])}`)
      assert.equal(r.code, 0, `node ${nodes[i].name}: exit ${r.code} (signal ${r.signal}) after SIGTERM\n${logTail(nodes[i])}`)
    }
  })
}
