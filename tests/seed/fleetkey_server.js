'use strict'
// What the seed test files need to run real `fleetkey serve` processes: free ports, a plain HTTP
// GET, start (wait for /health) and stop (SIGTERM, then SIGKILL), the tail of a server's log, a
// server on the run's store (SQLite, or a fresh PostgreSQL database) and its removal afterwards.

const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawn } = require('node:child_process')

const REPO_ROOT = path.resolve(__dirname, '../..')
const DLL = process.env.FLEETKEY_DLL || path.join(REPO_ROOT, 'src/Fleetkey/bin/Release/net10.0/fleetkey.dll')
const POSTGRES_SH = path.join(REPO_ROOT, 'scripts/postgres.sh')

// Ports this process has handed out: the kernel may give a port that was just bound and closed to
// the next bind(0) (two nodes, or one node's --http and --device-http, got the same port).
const handedOut = new Set()

function listenOnAnyPort () {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => resolve(s))
  })
}

// A free loopback port not handed out before: the sockets it was offered stay bound until it has one.
async function freePort () {
  const held = []
  try {
    for (;;) {
      const s = await listenOnAnyPort()
      held.push(s)
      const { port } = s.address()
      if (!handedOut.has(port)) {
        handedOut.add(port)
        return port
      }
    }
  } finally {
    await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))))
  }
}

// `ca` (PEM) is what an https:// URL's certificate must chain to.
function httpGet (url, ca = undefined) {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : http.get
    const req = get(url, { timeout: 2000, ...(ca ? { ca } : {}) }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// { ok: true, value } or { ok: false, code, statusCode, message } of an aws-sdk promise.
async function errorOf (promise) {
  try {
    const value = await promise
    return { ok: true, value }
  } catch (err) {
    return { ok: false, code: err.code, statusCode: err.statusCode, message: err.message }
  }
}

function logTail (server, lines = 60) {
  if (!server) return '(no server)'
  try {
    const text = fs.readFileSync(server.logPath, 'utf8').split('\n').slice(-lines).join('\n')
    return `--- last ${lines} lines of ${server.logPath} ---\n${text}\n--- end of ${server.name}'s log ---`
  } catch {
    return `(no log for ${server.name})`
  }
}

// Starts `fleetkey serve` on a fresh data directory and free loopback ports, with the given root
// access key, on `database` (a PostgreSQL URL) or SQLite when it is null, and waits until /health
// answers 200; `mqttPort` 0 (the default) runs no broker; `tls` serves both listeners over HTTPS with the
// certificate Fleetkey's CA issues (clients trust `caPath`, DIR/ca.pem). Returns { name, proc, endpoint,
// port, dataDir, logPath, database, caPath, exited, done }.
async function startFleetkey ({ name, database = null, accessKeyId, secretAccessKey, healthTimeoutMs = 60000, mqttPort = 0, tls = false }) {
  if (!fs.existsSync(DLL)) {
    throw new Error(`${DLL} not found: build with \`dotnet build Fleetkey.slnx -c Release\` in ${REPO_ROOT} or set FLEETKEY_DLL`)
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `fleetkey-${name}-`))
  const logPath = `${dataDir}-server.log`
  const port = await freePort()
  const devicePort = await freePort()
  const scheme = tls ? 'https' : 'http'
  const endpoint = `${scheme}://127.0.0.1:${port}`
  const caPath = path.join(dataDir, 'ca.pem')
  const logFd = fs.openSync(logPath, 'a')
  const args = [DLL, 'serve', '--data', dataDir, '--http', endpoint,
    '--device-http', `${scheme}://127.0.0.1:${devicePort}`, '--mqtt-port', String(mqttPort),
    ...(database ? ['--database', database] : [])]
  const proc = spawn('dotnet', args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', logFd, logFd],
    env: {
      ...process.env,
      FLEETKEY_ROOT_ACCESS_KEY_ID: accessKeyId,
      FLEETKEY_ROOT_SECRET_ACCESS_KEY: secretAccessKey,
      DOTNET_CLI_TELEMETRY_OPTOUT: '1',
      DOTNET_NOLOGO: '1'
    }
  })
  fs.closeSync(logFd)
  const server = { name, proc, endpoint, port, dataDir, logPath, database, caPath, done: false }
  server.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })))
  server.exited.then(() => { server.done = true })

  const deadline = Date.now() + healthTimeoutMs
  let last = null
  while (Date.now() < deadline) {
    if (server.done) {
      const error = new Error(`${name}: fleetkey serve exited before /health answered 200\n${logTail(server)}`)
      error.server = server
      throw error
    }
    try {
      const r = await httpGet(`${endpoint}/health`, tls ? fs.readFileSync(caPath) : undefined)
      if (r.status === 200) return server
      last = `HTTP ${r.status}`
    } catch (e) {
      last = e.message
    }
    await sleep(200) // poll interval: the server has no readiness event to wait on
  }
  const error = new Error(`${name}: GET /health did not answer 200 within ${healthTimeoutMs / 1000} s (last: ${last})\n${logTail(server)}`)
  error.server = server
  throw error
}

// SIGTERM, then SIGKILL after timeoutMs. Resolves to { code, signal } of a clean exit, or null
// when the server had to be killed.
async function stopFleetkey (server, timeoutMs = 15000) {
  if (!server) return null
  if (server.done) return server.exited
  server.proc.kill('SIGTERM')
  let timer
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs) })
  const r = await Promise.race([server.exited, timeout])
  clearTimeout(timer)
  if (r === null) {
    server.proc.kill('SIGKILL')
    await server.exited
  }
  return r
}

// The database a test file's server runs on: with FLEETKEY_TEST_STORE=postgres a fresh one on the
// FLEETKEY_TEST_POSTGRES server (scripts/postgres.sh create-db), else null (SQLite in the data directory).
function createTestDatabase () {
  const store = process.env.FLEETKEY_TEST_STORE || 'sqlite'
  if (store === 'sqlite') return null
  if (store !== 'postgres') throw new Error(`FLEETKEY_TEST_STORE=${store}: expected sqlite or postgres`)
  if (!process.env.FLEETKEY_TEST_POSTGRES) throw new Error('FLEETKEY_TEST_STORE=postgres needs FLEETKEY_TEST_POSTGRES (scripts/postgres.sh start)')
  return execFileSync('bash', [POSTGRES_SH, 'create-db'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

// startFleetkey on the run's store (createTestDatabase). A server that did not start is the error's
// `server`; a database no server was started on is dropped again.
async function startOnTestStore (options) {
  const database = createTestDatabase()
  try {
    return await startFleetkey({ ...options, database })
  } catch (err) {
    if (!err.server && database) execFileSync('bash', [POSTGRES_SH, 'drop-db', database], { stdio: 'ignore' })
    throw err
  }
}

// After a test file: stops the server if it still runs, then removes its data directory, log and
// database, or, with `keep` (or FLEETKEY_KEEP_DATA), prints the log's tail and says what was kept.
async function finishServer (server, keep) {
  if (!server) return
  if (!server.done) await stopFleetkey(server)
  if (keep || process.env.FLEETKEY_KEEP_DATA) {
    console.log(logTail(server, 80))
    console.log(`kept ${server.dataDir} and ${server.logPath}${server.database ? ` and ${server.database}` : ''}`)
    return
  }
  fs.rmSync(server.dataDir, { recursive: true, force: true })
  fs.rmSync(server.logPath, { force: true })
  if (server.database) execFileSync('bash', [POSTGRES_SH, 'drop-db', server.database], { stdio: 'ignore' })
}

module.exports = {
  REPO_ROOT, DLL, freePort, httpGet, sleep, errorOf, logTail, startFleetkey, stopFleetkey, startOnTestStore, finishServer
}
