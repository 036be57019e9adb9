import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent } from '../../src/agent/start_agent.js'
import type { SpanRecord, TraceSummary } from '../../src/agent/store_queries.js'
import { counters, expected, fixture, getJson, postEvp, putTraces, request, resetAgent, sendFixture, spanEvent } from '../helpers/agent_client.js'

test('GET /info advertises the endpoints and features tracers look for; / is a placeholder page', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const info = await getJson<Record<string, unknown>>(agent.url, '/info')
    const endpoints = info.endpoints as string[]
    for (const e of ['/v0.4/traces', '/v0.5/traces', '/evp_proxy/v2/']) assert.ok(endpoints.includes(e), e)
    assert.equal(info.span_meta_structs, true)
    assert.equal(info.client_drop_p0s, false)
    assert.ok((info.evp_proxy_allowed_headers as string[]).includes('Content-Type'))
    assert.match(String(info.version), /^llmobs-ts-/)
    const home = await request(agent.url, '/')
    assert.equal(home.status, 200)
    assert.match(home.headers.get('content-type') ?? '', /text\/html/)
    assert.match(home.body, /\/api\/traces/)
    assert.deepEqual(await counters(agent.url), expected({}))
  } finally {
    await agent.close()
  }
})

test('dd-trace-js 5.132 fixtures: every captured request accepted; spans, traces, evaluations queryable', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    for (const name of ['01_v0.4_traces', '02_evp_proxy_v2_api_v2_llmobs', '03_evp_proxy_v2_api_intake_llm_obs_v2_eval_metric', 'v05-01_v0.5_traces']) {
      const r = await sendFixture(agent.url, fixture(name))
      assert.ok(r.status >= 200 && r.status < 300, `${name}: ${r.status} ${r.body}`)
      if (name.includes('traces')) assert.deepEqual(r.json, { rate_by_service: { 'service:,env:': 1 } })
    }
    assert.deepEqual(await counters(agent.url), expected({ payloads_received: 4, chunks_received: 2, llmobs_evp: 4, evaluations: 1 }))

    const { spans } = await getJson<{ spans: SpanRecord[] }>(agent.url, '/api/spans?ml_app=fixture-app')
    assert.equal(spans.length, 4)
    assert.deepEqual(spans.map((s) => s.kind).sort(), ['llm', 'retrieval', 'tool', 'workflow'])
    assert.ok(spans.every((s) => s.path === 'evp' && s.trace_id === '6b06da60000000002a94616f3b4d62df'))
    const tool = spans.find((s) => s.kind === 'tool')
    assert.equal(tool?.status, 'error')
    assert.equal((await getJson<{ spans: unknown[] }>(agent.url, '/api/spans?ml_app=nope')).spans.length, 0)
    assert.equal((await getJson<{ spans: unknown[] }>(agent.url, '/api/spans?limit=2')).spans.length, 2)
    assert.equal((await getJson<{ spans: unknown[] }>(agent.url, '/api/spans?path=trace')).spans.length, 0)

    const { traces } = await getJson<{ traces: TraceSummary[] }>(agent.url, '/api/traces')
    assert.equal(traces.length, 1)
    assert.equal(traces[0].root_name, 'answer-question')
    assert.equal(traces[0].span_count, 4)
    assert.deepEqual([traces[0].input_tokens, traces[0].output_tokens, traces[0].total_tokens], [21, 2, 23])
    assert.equal(traces[0].error_count, 1)

    const detail = await getJson<{ spans: SpanRecord[], evaluations: Array<{ label: string, value: unknown }>, apm_chunks: Array<{ endpoint: string }> }>(
      agent.url, `/api/traces/${traces[0].trace_id}`)
    assert.equal(detail.spans[0].name, 'answer-question')
    assert.deepEqual(detail.evaluations.map((e) => [e.label, e.value]), [['correctness', 'correct']])
    // The events' _dd.apm_trace_id joins them to the v0.4 chunk they belong to.
    assert.deepEqual(detail.apm_chunks.map((c) => c.endpoint), ['/v0.4/traces'])
    const missing = await request(agent.url, '/api/traces/ffff')
    assert.equal(missing.status, 404)

    const evals = await getJson<{ evaluations: Array<{ span_id: string }> }>(agent.url, '/api/evaluations?span_id=5255485892174694195')
    assert.equal(evals.evaluations.length, 1)
    const chunks = await getJson<{ chunks: Array<{ kept: boolean, priority: number, span_count: number }> }>(agent.url, '/api/chunks')
    assert.deepEqual(chunks.chunks.map((c) => [c.kept, c.priority, c.span_count]), [[true, 1, 4], [true, 1, 4]])

    const reset = await resetAgent(agent.url)
    assert.equal(reset.status, 200)
    assert.deepEqual(await counters(agent.url), expected({}))
    assert.equal((await getJson<{ spans: unknown[] }>(agent.url, '/api/spans')).spans.length, 0)
    assert.equal((await getJson<{ chunks: unknown[] }>(agent.url, '/api/chunks')).chunks.length, 0)
  } finally {
    await agent.close()
  }
})

test('other tracer endpoints are answered quietly; unknown paths 404; neither is counted', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const cases: Array<[string, string, number]> = [
      ['POST', '/v0.7/config', 404],
      ['POST', '/telemetry/proxy/api/v2/apmtelemetry', 202],
      ['PUT', '/v0.6/stats', 200],
      ['POST', '/dogstatsd/v2/proxy', 200],
      ['POST', '/profiling/v1/input', 200],
      ['POST', '/debugger/v1/input', 200],
      ['GET', '/nope', 404],
    ]
    for (const [method, path, status] of cases) {
      const r = await request(agent.url, path, { method, body: method === 'GET' ? undefined : '{"x":1}', headers: { 'Content-Type': 'application/json' } })
      assert.equal(r.status, status, path)
    }
    // Proxied elsewhere through EVP: accepted and dropped.
    const other = await request(agent.url, '/evp_proxy/v2/api/v2/citestcycle', { method: 'POST', headers: { 'X-Datadog-EVP-Subdomain': 'citestcycle-intake' }, body: 'x' })
    assert.equal(other.status, 202)
    assert.deepEqual(await counters(agent.url), expected({ requests_quiet: 7 }))
  } finally {
    await agent.close()
  }
})

test('agentless intake: DD-API-KEY required (403), checked against --api-key; evaluations too', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:', apiKey: 'secret-key' })
  try {
    const body = JSON.stringify([{ event_type: 'span', spans: [spanEvent('al1', '1')] }])
    const json = { 'Content-Type': 'application/json' }
    const none = await request(agent.url, '/api/v2/llmobs', { method: 'POST', headers: json, body })
    assert.equal(none.status, 403)
    assert.deepEqual(none.json, { error: 'missing DD-API-KEY header' })
    const wrong = await request(agent.url, '/api/v2/llmobs', { method: 'POST', headers: { ...json, 'DD-API-KEY': 'nope' }, body })
    assert.equal(wrong.status, 403)
    assert.doesNotMatch(wrong.body, /secret-key/)
    const ok = await request(agent.url, '/api/v2/llmobs', { method: 'POST', headers: { ...json, 'DD-API-KEY': 'secret-key' }, body })
    assert.equal(ok.status, 202)
    const evalBody = JSON.stringify({ data: { type: 'evaluation_metric', attributes: { metrics: [{ join_on: { span: { span_id: '1', trace_id: 'al1' } }, label: 'l', metric_type: 'boolean', boolean_value: true }] } } })
    const ev = await request(agent.url, '/api/intake/llm-obs/v2/eval-metric', { method: 'POST', headers: { ...json, 'DD-API-KEY': 'secret-key' }, body: evalBody })
    assert.equal(ev.status, 202)
    const key = { 'DD-API-KEY': 'secret-key' }
    const { spans } = await getJson<{ spans: SpanRecord[] }>(agent.url, '/api/spans', key)
    assert.deepEqual(spans.map((s) => [s.trace_id, s.span_id, s.path]), [['al1', '1', 'agentless']])
    assert.deepEqual(await counters(agent.url, key), expected({ payloads_received: 2, llmobs_agentless: 1, evaluations: 1, requests_rejected: 2 }))
  } finally {
    await agent.close()
  }
})

test('EVP proxy: subdomain header required and matched to the intake; methods checked', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const body = JSON.stringify([{ spans: [spanEvent('e1', '1')] }])
    const missing = await request(agent.url, '/evp_proxy/v2/api/v2/llmobs', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })
    assert.equal(missing.status, 400)
    assert.deepEqual(missing.json, { error: 'missing X-Datadog-EVP-Subdomain header' })
    const wrong = await request(agent.url, '/evp_proxy/v2/api/v2/llmobs', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Datadog-EVP-Subdomain': 'api' }, body })
    assert.equal(wrong.status, 400)
    const get = await request(agent.url, '/evp_proxy/v2/api/v2/llmobs', { headers: { 'X-Datadog-EVP-Subdomain': 'llmobs-intake' } })
    assert.equal(get.status, 405)
    const traceGet = await request(agent.url, '/v0.4/traces')
    assert.equal(traceGet.status, 405)
    const ok = await postEvp(agent.url, [spanEvent('e1', '1')])
    assert.equal(ok.status, 202)
    assert.deepEqual(await counters(agent.url), expected({ payloads_received: 1, llmobs_evp: 1, requests_rejected: 4 }))
  } finally {
    await agent.close()
  }
})

test('rate_by_service comes from the configured rates; query limits are bounded', async () => {
  const rates = { 'service:,env:': 0.5, 'service:web,env:prod': 0.25 }
  const agent = await startAgent({ port: 0, db: ':memory:', rates })
  try {
    const r = await putTraces(agent.url, Buffer.from([0x90]))
    assert.equal(r.status, 200)
    assert.deepEqual(r.json, { rate_by_service: rates })
    for (let i = 0; i < 3; i++) await postEvp(agent.url, [spanEvent(`t${i}`, '1')])
    assert.equal((await getJson<{ spans: unknown[] }>(agent.url, '/api/spans?limit=100000')).spans.length, 3)
    assert.equal((await getJson<{ traces: unknown[] }>(agent.url, '/api/traces?limit=2')).traces.length, 2)
    for (const bad of ['0', '-1', 'ten', '1.5']) {
      const res = await request(agent.url, `/api/spans?limit=${bad}`)
      assert.equal(res.status, 400, bad)
    }
    assert.deepEqual(await counters(agent.url), expected({ payloads_received: 4, llmobs_evp: 3, requests_rejected: 4 }))
  } finally {
    await agent.close()
  }
})
