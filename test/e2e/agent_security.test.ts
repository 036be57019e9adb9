import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { startAgent } from '../../src/agent/start_agent.js'
import { counters, expected, getJson, postEvp, request, resetAgent, spanEvent } from '../helpers/agent_client.js'

interface RawReply { status: number, body: string }

/** A request with a Host header of our choosing (fetch would not let us set it). */
function withHost (base: string, path: string, host: string, init: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<RawReply> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method: init.method ?? 'GET', headers: { ...init.headers, Host: host }, setHost: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

const JSON_TYPE = { 'Content-Type': 'application/json' }

test('Host check: a DNS-rebinding Host is refused on every path with a reason; loopback names and addresses pass', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    assert.equal((await postEvp(agent.url, [spanEvent('stored-q9', '1')])).status, 202)
    const port = agent.port
    for (const path of ['/api/spans', '/api/traces', '/api/counters', '/', '/ui/app.js', '/info', '/v0.4/traces']) {
      const r = await withHost(agent.url, path, `evil.example:${port}`)
      assert.equal(r.status, 403, path)
      assert.match(JSON.parse(r.body).error, /Host "evil\.example:\d+" is not allowed.*DNS rebinding/, path)
      assert.doesNotMatch(r.body, /stored-q9/, `${path}: no stored data in the refusal`)
    }
    for (const host of [`127.0.0.1.evil.example:${port}`, `localhost.evil.example:${port}`, `evil.example@127.0.0.1:${port}`, `[::2]:${port}`, '10.0.0.1']) {
      assert.equal((await withHost(agent.url, '/api/spans', host)).status, 403, host)
    }
    for (const host of [`127.0.0.1:${port}`, '127.0.0.1', `localhost:${port}`, `LOCALHOST.:${port}`, `ui.localhost:${port}`, `127.1.2.3:${port}`, `[::1]:${port}`, `[::ffff:127.0.0.1]:${port}`]) {
      const r = await withHost(agent.url, '/api/spans', host)
      assert.equal(r.status, 200, host)
      assert.match(r.body, /stored-q9/, host)
    }
    // 12 refused above, none of it stored or acted on.
    assert.deepEqual(await counters(agent.url), expected({ payloads_received: 1, llmobs_evp: 1, requests_rejected: 12 }))
  } finally {
    await agent.close()
  }
})

test('Host check: allowedHosts and the bound host are answered; bound to 0.0.0.0, IP literals pass and other names need allowedHosts', async () => {
  const named = await startAgent({ port: 0, db: ':memory:', allowedHosts: ['Agent.Internal', '[fd00::5]'] })
  try {
    assert.equal((await withHost(named.url, '/info', `agent.internal:${named.port}`)).status, 200)
    assert.equal((await withHost(named.url, '/info', `[fd00::5]:${named.port}`)).status, 200)
    assert.equal((await withHost(named.url, '/info', `other.internal:${named.port}`)).status, 403)
    assert.equal((await withHost(named.url, '/info', `192.168.1.9:${named.port}`)).status, 403, 'bound to loopback: no network addresses')
  } finally {
    await named.close()
  }
  const warned: string[] = []
  const wide = await startAgent({ host: '0.0.0.0', port: 0, db: ':memory:', allowedHosts: ['devbox.lan'], logger: { info: () => {}, warn: (m) => warned.push(m) } })
  try {
    assert.ok(warned.some((w) => /bound to 0\.0\.0\.0/.test(w)))
    assert.equal((await withHost(wide.url, '/info', `192.168.1.9:${wide.port}`)).status, 200)
    assert.equal((await withHost(wide.url, '/info', `[fe80::1]:${wide.port}`)).status, 200)
    assert.equal((await withHost(wide.url, '/info', `devbox.lan:${wide.port}`)).status, 200)
    assert.equal((await withHost(wide.url, '/info', `evil.example:${wide.port}`)).status, 403)
  } finally {
    await wide.close()
  }
})

test('CSRF: state-changing query-API requests a browser could send cross-site are refused and change nothing', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const own = `http://127.0.0.1:${agent.port}`
  try {
    assert.equal((await postEvp(agent.url, [spanEvent('keep', '1')])).status, 202)
    const fault = JSON.stringify({ path: '/info', status: 500 })
    const refused: Array<[string, { method: string, headers?: Record<string, string>, body?: string }, number]> = [
      // CORS-simple requests: any page can send these without a preflight.
      ['/api/reset', { method: 'POST' }, 415],
      ['/api/reset', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' }, 415],
      ['/api/reset', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=1' }, 415],
      ['/api/faults', { method: 'POST', headers: { 'Content-Type': 'multipart/form-data; boundary=x' }, body: fault }, 415],
      // What a browser says about a request from another origin.
      ['/api/reset', { method: 'POST', headers: { ...JSON_TYPE, Origin: 'http://evil.example' }, body: '{}' }, 403],
      ['/api/reset', { method: 'POST', headers: { ...JSON_TYPE, Origin: 'null' }, body: '{}' }, 403],
      ['/api/reset', { method: 'POST', headers: { ...JSON_TYPE, Origin: 'http://127.0.0.1:1' }, body: '{}' }, 403],
      ['/api/reset', { method: 'POST', headers: { ...JSON_TYPE, 'Sec-Fetch-Site': 'cross-site' }, body: '{}' }, 403],
      // Another port of localhost is "same-site", and still another origin.
      ['/api/reset', { method: 'POST', headers: { ...JSON_TYPE, 'Sec-Fetch-Site': 'same-site' }, body: '{}' }, 403],
      ['/api/faults', { method: 'POST', headers: { ...JSON_TYPE, Origin: 'http://evil.example' }, body: fault }, 403],
      ['/api/faults', { method: 'DELETE', headers: { Origin: 'http://evil.example' } }, 403],
    ]
    assert.equal((await request(agent.url, '/api/faults', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ path: '/nothing', status: 500 }) })).status, 200)
    for (const [path, init, status] of refused) {
      const r = await request(agent.url, path, init)
      assert.equal(r.status, status, `${init.method} ${path} ${JSON.stringify(init.headers)}`)
      assert.match((r.json as { error: string }).error, status === 415 ? /Content-Type must be application\/json/ : /cross-(site|origin) request refused/)
    }
    assert.equal((await getJson<{ spans: unknown[] }>(agent.url, '/api/spans')).spans.length, 1, 'not reset')
    assert.deepEqual((await getJson<{ faults: Array<{ path: string }> }>(agent.url, '/api/faults')).faults.map((f) => f.path), ['/nothing'], 'faults neither added nor cleared')
    assert.equal((await request(agent.url, '/info')).status, 200)
    assert.deepEqual(await counters(agent.url), expected({ payloads_received: 1, llmobs_evp: 1, requests_rejected: refused.length }))

    // The agent's own origin (its UI), a user-typed request and non-browser clients pass.
    assert.equal((await request(agent.url, '/api/faults', { method: 'DELETE', headers: { Origin: own, 'Sec-Fetch-Site': 'same-origin' } })).status, 200)
    assert.equal((await resetAgent(agent.url, { Origin: own, 'Sec-Fetch-Site': 'same-origin' })).status, 200)
    assert.equal((await resetAgent(agent.url, { 'Sec-Fetch-Site': 'none' })).status, 200)
    assert.equal((await resetAgent(agent.url)).status, 200)
    assert.equal((await getJson<{ spans: unknown[] }>(agent.url, '/api/spans')).spans.length, 0)
    // Reading stays open to any client (a page of another origin cannot read the answer: no CORS headers).
    const read = await request(agent.url, '/api/counters', { headers: { Origin: 'http://evil.example' } })
    assert.equal(read.status, 200)
    assert.equal(read.headers.get('access-control-allow-origin'), null)
  } finally {
    await agent.close()
  }
})

test('apiKey protects the query API (401 without it or with a wrong one, never echoed); UI assets and tracer endpoints stay open', async () => {
  const KEY = 'query-key-7f3a'
  const agent = await startAgent({ port: 0, db: ':memory:', apiKey: KEY })
  const key = { 'DD-API-KEY': KEY }
  try {
    // Tracer-facing endpoints: tracers never send a key to an agent.
    assert.equal((await request(agent.url, '/info')).status, 200)
    assert.equal((await postEvp(agent.url, [spanEvent('guarded', '1')])).status, 202)
    const evalBody = JSON.stringify({ data: { type: 'evaluation_metric', attributes: { metrics: [{ join_on: { span: { span_id: '1', trace_id: 'guarded' } }, label: 'l', metric_type: 'score', score_value: 1, ml_app: 'a', timestamp_ms: 1 }] } } })
    assert.equal((await request(agent.url, '/evp_proxy/v2/api/intake/llm-obs/v2/eval-metric', { method: 'POST', headers: { ...JSON_TYPE, 'X-Datadog-EVP-Subdomain': 'api' }, body: evalBody })).status, 202)
    for (const asset of ['/', '/ui/app.js', '/ui/style.css']) assert.equal((await request(agent.url, asset)).status, 200, asset)

    const queries: Array<[string, { method?: string, headers?: Record<string, string>, body?: string }]> = [
      ['/api/spans', {}], ['/api/traces', {}], ['/api/traces/guarded', {}], ['/api/counters', {}], ['/api/evaluations', {}],
      ['/api/chunks', {}], ['/api/faults', {}], ['/api/reset', { method: 'POST', headers: JSON_TYPE, body: '{}' }],
      ['/api/faults', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ path: '/info', status: 500 }) }],
      ['/api/faults', { method: 'DELETE' }],
    ]
    let refused = 0
    for (const [path, init] of queries) {
      const none = await request(agent.url, path, init)
      assert.equal(none.status, 401, `${init.method ?? 'GET'} ${path}`)
      assert.match(none.body, /send it in the DD-API-KEY header/)
      assert.doesNotMatch(none.body, /guarded/, 'no data in a refusal')
      const wrong = await request(agent.url, path, { ...init, headers: { ...init.headers, 'DD-API-KEY': `${KEY}x` } })
      assert.equal(wrong.status, 401)
      assert.deepEqual(wrong.json, { error: 'invalid API key' })
      assert.doesNotMatch(none.body + wrong.body, new RegExp(KEY))
      refused += 2
    }
    assert.equal((await request(agent.url, '/info')).status, 200, 'the fault was never set')
    const { spans } = await getJson<{ spans: Array<{ trace_id: string }> }>(agent.url, '/api/spans', key)
    assert.deepEqual(spans.map((s) => s.trace_id), ['guarded'], 'not reset')
    const detail = await getJson<{ evaluations: unknown[] }>(agent.url, '/api/traces/guarded', key)
    assert.equal(detail.evaluations.length, 1)
    assert.doesNotMatch(JSON.stringify(detail), new RegExp(KEY))
    assert.deepEqual(await counters(agent.url, key), expected({ payloads_received: 2, llmobs_evp: 1, evaluations: 1, requests_rejected: refused }))
    assert.equal((await resetAgent(agent.url, key)).status, 200)
  } finally {
    await agent.close()
  }
})
