import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { log } from '../../src/diag/logger.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { Tracer } from '../../src/root/tracer.js'
import { HttpTransport } from '../../src/transport/http_transport.js'
import { parseAgentUrl, type AgentEndpoint } from '../../src/config/tracer_config.js'

/**
 * Secrets (issue 7): the API key never appears in logs, errors, the UI, the store or a payload;
 * agentless refuses clear text to another host; the agent binds loopback; bodies are capped
 * before they are buffered.
 */
const KEY = 'SECRETkeyZ9y8x7w6v5u4t3s2r1q0pZZ'
/** The key, a prefix of it (a truncated echo), and encodings a careless log might use. */
const NEEDLES = [KEY, KEY.slice(0, 12), Buffer.from(KEY).toString('base64'), encodeURIComponent(KEY).replace(/%/g, '')]
const PROBE = new URL('../../../test/fixtures/secrets/leak_probe.mjs', import.meta.url).pathname

const dirs: string[] = []
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

function leaks (text: string | Buffer): string[] {
  const s = typeof text === 'string' ? text : text.toString('latin1')
  return NEEDLES.filter((n) => s.includes(n))
}

interface Seen { method: string, url: string, headers: http.IncomingHttpHeaders, body: Buffer }

/** A loopback proxy in front of the agent that records every request, headers and body. */
async function recordingProxy (target: string): Promise<{ url: string, seen: Seen[], close: () => Promise<void> }> {
  const t = new URL(target)
  const seen: Seen[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers)
        ur.pipe(res)
      })
      up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end() })
      up.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

interface ProbeResult { code: number | null, out: string, err: string, summary: { enabled: boolean, insecure: boolean, mode: string, stats: { created: number, delivered: number, pending: number, dropped: Record<string, number> } } }

function runProbe (mode: 'agent' | 'agentless', traceUrl: string, intakeUrl: string, rate: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const env = { ...process.env, DD_API_KEY: KEY, DD_TRACE_DEBUG: 'true' }
    const child = spawn(process.execPath, [PROBE, mode, traceUrl, intakeUrl, String(rate)], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('close', (code) => { // 'close': stdout fully read ('exit' can come first)
      const last = out.trim().split('\n').pop() ?? '{}'
      resolve({ code, out, err, summary: JSON.parse(last) as ProbeResult['summary'] })
    })
  })
}

async function agentWithFile (apiKey: string, logged: string[]): Promise<{ agent: LocalAgent, dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'llmobs-secrets-'))
  dirs.push(dir)
  const agent = await startAgent({ port: 0, db: join(dir, 'agent.db'), apiKey, logger: { info: (m) => logged.push(m), warn: (m) => logged.push(m) } })
  return { agent, dir }
}

/** Every byte the agent keeps on disk (database, WAL, shared memory). */
function storeBytes (dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))))
}

/**
 * What a browser (or anyone on the port) can read from the agent. The query API needs the
 * agent's key (`key`), sent the way the UI sends it: the answers must still never echo it.
 */
async function uiAndQueryText (base: string, key: string): Promise<string> {
  const paths = ['/', '/info', '/api/counters', '/api/spans?limit=1000', '/api/traces?limit=100', '/api/chunks?limit=100', '/api/evaluations?limit=100', '/api/faults']
  const home = await (await fetch(base + '/')).text()
  for (const m of home.matchAll(/(?:src|href)="([^"]+)"/g)) if (m[1].startsWith('/')) paths.push(m[1])
  const headers = { 'DD-API-KEY': key }
  const texts: string[] = []
  for (const p of paths) texts.push(await (await fetch(base + p, { headers })).text())
  const traces = JSON.parse(texts[4]) as { traces: Array<{ trace_id: string }> }
  for (const t of traces.traces) texts.push(await (await fetch(`${base}/api/traces/${t.trace_id}`, { headers })).text())
  return texts.join('\n')
}

test('agentless: the key travels only in the DD-API-KEY header to the intake; never in a body, a log, the store or the UI', async () => {
  const logged: string[] = []
  const { agent, dir } = await agentWithFile(KEY, logged)
  const proxy = await recordingProxy(agent.url)
  try {
    const r = await runProbe('agentless', proxy.url, proxy.url, 0.5)
    assert.equal(r.code, 0, r.err)
    assert.equal(r.summary.enabled, true)
    assert.equal(r.summary.mode, 'apm_agentless')
    assert.equal(r.summary.insecure, false, 'plain http to another host refused')
    assert.equal(r.summary.stats.created, 10)
    assert.equal(r.summary.stats.delivered, 10, JSON.stringify(r.summary.stats))
    assert.match(r.err, /\[llmobs-ts\] (warn|debug)/, 'the probe did log (debug on), so the grep means something')
    assert.deepEqual(leaks(r.out + r.err), [], 'stdout/stderr (logs, warnings, debug, errors)')

    const intake = proxy.seen.filter((s) => s.url.startsWith('/api/'))
    assert.ok(intake.some((s) => s.url === '/api/v2/llmobs') && intake.some((s) => s.url.includes('eval-metric')), proxy.seen.map((s) => s.url).join(' '))
    for (const s of proxy.seen) {
      assert.deepEqual(leaks(s.body), [], `body of ${s.method} ${s.url}`)
      for (const [name, value] of Object.entries(s.headers)) {
        const text = Array.isArray(value) ? value.join(',') : String(value)
        if (name === 'dd-api-key' && s.url.startsWith('/api/')) assert.equal(text, KEY)
        else assert.deepEqual(leaks(text), [], `header ${name} of ${s.method} ${s.url}`)
      }
      if (!s.url.startsWith('/api/')) assert.equal(s.headers['dd-api-key'], undefined, `no key to the agent: ${s.url}`)
    }

    const ui = await uiAndQueryText(agent.url, KEY)
    assert.match(ui, /secret-llm/, 'the UI and query API show the spans')
    assert.deepEqual(leaks(ui), [], 'UI HTML, assets and query API')
    assert.deepEqual(leaks(logged.join('\n')), [], 'the agent\'s own log')
  } finally {
    await proxy.close()
    await agent.close()
  }
  const disk = storeBytes(dir)
  assert.ok(disk.includes('secret-llm'), 'the store holds the events, so the grep means something')
  assert.deepEqual(leaks(disk), [], 'the SQLite store on disk')
})

test('agentless with a key the intake refuses: the 403 is logged and counted, the key is not', async () => {
  const logged: string[] = []
  const { agent } = await agentWithFile('a-different-key', logged)
  try {
    const r = await runProbe('agentless', agent.url, agent.url, 0)
    assert.equal(r.code, 0, r.err)
    assert.ok((r.summary.stats.dropped.refused ?? 0) > 0, JSON.stringify(r.summary.stats))
    assert.match(r.err, /403/)
    assert.deepEqual(leaks(r.out + r.err), [])
    assert.deepEqual(leaks(logged.join('\n')), [])
    assert.deepEqual(leaks(await uiAndQueryText(agent.url, 'a-different-key')), [])
  } finally {
    await agent.close()
  }
})

test('agent mode: with DD_API_KEY set, nothing sent to the agent carries the key (the Agent adds its own)', async () => {
  const logged: string[] = []
  const { agent, dir } = await agentWithFile(KEY, logged)
  const proxy = await recordingProxy(agent.url)
  try {
    for (const rate of [0, 1]) {
      const r = await runProbe('agent', proxy.url, proxy.url, rate)
      assert.equal(r.code, 0, r.err)
      assert.equal(r.summary.mode, 'apm_agent')
      assert.equal(r.summary.stats.delivered, 10, JSON.stringify(r.summary.stats))
      assert.deepEqual(leaks(r.out + r.err), [])
    }
    assert.ok(proxy.seen.some((s) => s.url.startsWith('/evp_proxy/')) && proxy.seen.some((s) => s.url === '/v0.4/traces'))
    for (const s of proxy.seen) {
      assert.deepEqual(leaks(s.body), [], `body of ${s.method} ${s.url}`)
      assert.deepEqual(leaks(JSON.stringify(s.headers)), [], `headers of ${s.method} ${s.url}`)
    }
  } finally {
    await proxy.close()
    await agent.close()
  }
  assert.deepEqual(leaks(storeBytes(dir)), [])
})

test('agentless refuses plain http to a host that is not this machine; https and loopback http are accepted', async () => {
  const lines: string[] = []
  log.resetWarnings()
  log.configure({ sink: (_l, m) => lines.push(m) })
  const tracer = new Tracer({ url: 'http://127.0.0.1:9', service: 'secrets' })
  try {
    const verdict = async (intakeUrl: string, evalIntakeUrl = 'https://api.example.com'): Promise<boolean> => {
      const o = new LLMObs(() => tracer)
      const ok = o.enable({ agentlessEnabled: true, apiKey: KEY, intakeUrl, evalIntakeUrl })
      assert.equal(o.enabled, ok)
      await o.disable()
      return ok
    }
    for (const refused of ['http://llmobs-intake.example.com', 'http://10.1.2.3:8080', 'http://127.evil.example', 'http://127.0.0.1.nip.io',
      'http://localhost.example.com', 'ftp://127.0.0.1/', 'not a url', 'http://[::ffff:7f00:1]:1']) {
      assert.equal(await verdict(refused), false, refused)
    }
    assert.equal(await verdict('https://llmobs-intake.example.com', 'http://api.example.com'), false, 'the evaluation intake too')
    for (const accepted of ['https://llmobs-intake.example.com', 'http://127.0.0.1:1', 'http://127.3.4.5:1', 'http://localhost:1', 'http://[::1]:1']) {
      assert.equal(await verdict(accepted), true, accepted)
    }
    assert.ok(lines.some((l) => /only uses https/.test(l)), lines.join('\n'))
    assert.deepEqual(leaks(lines.join('\n')), [])
  } finally {
    log.configure({ sink: () => {} })
    await tracer.shutdown()
  }
})

test('the local agent binds loopback by default and warns when told to bind elsewhere', async () => {
  const warned: string[] = []
  const logger = { info: () => {}, warn: (m: string) => warned.push(m) }
  const agent = await startAgent({ port: 0, db: ':memory:', logger })
  try {
    assert.equal(agent.host, '127.0.0.1')
    assert.match(agent.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const other = await startAgent({ host: '127.0.0.2', port: 0, db: ':memory:', logger })
    await other.close()
    assert.deepEqual(warned, [], 'loopback addresses do not warn')
  } finally {
    await agent.close()
  }
  // A name that never resolves (RFC 2606): the warning comes before the bind, which then fails,
  // so the test opens no port beyond loopback.
  await assert.rejects(startAgent({ host: 'agent.invalid', port: 0, db: ':memory:', logger }))
  assert.equal(warned.length, 1)
  assert.match(warned[0], /bound to agent\.invalid: it has no authentication/)
})

/** Sends a raw request head (and optionally part of a body), resolves with the status line and the bytes written. */
function rawRequest (port: number, head: string, streamBody: { chunkBytes: number, maxBytes: number } | undefined): Promise<{ status: string, written: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let written = 0
    let answer = ''
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      socket.destroy()
      resolve({ status: answer.split('\r\n')[0], written })
    }
    socket.on('data', (d: Buffer) => { answer += d.toString('latin1'); if (answer.includes('\r\n\r\n')) finish() })
    socket.on('error', () => { if (answer !== '') finish(); else if (!done) reject(new Error(`socket error after ${written} bytes`)) })
    socket.on('close', finish)
    socket.write(head)
    if (streamBody === undefined) return
    const chunk = Buffer.alloc(streamBody.chunkBytes, 0x61)
    const frame = Buffer.concat([Buffer.from(chunk.length.toString(16) + '\r\n'), chunk, Buffer.from('\r\n')])
    const pump = (): void => {
      while (!done && written < streamBody.maxBytes) {
        written += frame.length
        if (!socket.write(frame)) { socket.once('drain', pump); return }
      }
    }
    pump()
  })
}

test('bodies are capped before they are buffered: declared, streamed and inflated sizes; responses to the tracer too', async () => {
  const cap = 64 * 1024
  const agent = await startAgent({ port: 0, db: ':memory:', maxTraceBodyBytes: cap, maxEvpBodyBytes: cap })
  try {
    // A declared length over the cap is refused before a byte of body is sent.
    const declared = await rawRequest(agent.port, 'PUT /v0.4/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/msgpack\r\nContent-Length: 1000000000\r\n\r\n', undefined)
    assert.match(declared.status, /^HTTP\/1\.1 413/)
    const evp = await rawRequest(agent.port, 'POST /evp_proxy/v2/api/v2/llmobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Datadog-EVP-Subdomain: llmobs-intake\r\nContent-Length: 1000000000\r\n\r\n', undefined)
    assert.match(evp.status, /^HTTP\/1\.1 413/)
    // A chunked body is counted as it arrives: the agent stops reading at the cap, so a client
    // streaming 256 MiB gets its 413 after little more than the cap plus socket buffers.
    const streamed = await rawRequest(agent.port, 'PUT /v0.4/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/msgpack\r\nTransfer-Encoding: chunked\r\n\r\n', { chunkBytes: 16 * 1024, maxBytes: 256 * 1024 * 1024 })
    assert.match(streamed.status, /^HTTP\/1\.1 413/)
    assert.ok(streamed.written < 32 * 1024 * 1024, `client wrote ${streamed.written} bytes before the refusal`)
    // A small gzip body that inflates past the cap.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024))
    const inflated = await fetch(agent.url + '/v0.4/traces', { method: 'PUT', headers: { 'Content-Type': 'application/msgpack', 'Content-Encoding': 'gzip' }, body: bomb })
    assert.equal(inflated.status, 413)
    await inflated.text()
    // The fault knob's own body cap.
    const faults = await fetch(agent.url + '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path: '/x', status: 500, pad: 'x'.repeat(128 * 1024) }) })
    assert.equal(faults.status, 413)
    await faults.text()
    const c = agent.counters()
    assert.equal(c.payloads_received, 0)
    assert.ok(c.requests_rejected >= 5, JSON.stringify(c))
    assert.equal((await fetch(agent.url + '/info')).status, 200, 'the agent is still serving')
  } finally {
    await agent.close()
  }

  // The tracer's side: an endpoint answering 20 MiB is read, but at most 1 MiB is kept.
  const big = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' })
    const piece = Buffer.alloc(1024 * 1024, 0x20)
    for (let i = 0; i < 20; i++) res.write(piece)
    res.end()
  })
  await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve))
  const transport = new HttpTransport(parseAgentUrl(`http://127.0.0.1:${(big.address() as AddressInfo).port}`) as AgentEndpoint)
  try {
    const r = await transport.send({ method: 'PUT', path: '/v0.4/traces', headers: {}, body: Buffer.from([0x90]), timeoutMs: 10_000 })
    assert.equal(r.kind, 'ok')
    assert.ok(r.kind === 'ok' && r.body.length <= 1024 * 1024, `kept ${r.kind === 'ok' ? r.body.length : 0} bytes`)
  } finally {
    transport.close()
    big.closeAllConnections()
    big.close()
  }
})
