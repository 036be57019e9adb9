import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { gzipSync } from 'node:zlib'
import { Packr } from 'msgpackr'
import { startAgent } from '../../src/agent/start_agent.js'
import { Tracer } from '../../src/root/tracer.js'
import {
  counters, expected, getJson, llmobsDoc, postEvp, putTraces, request, spanData, spanEvent, v04Body, waitFor,
} from '../helpers/agent_client.js'

const packr = new Packr({ useRecords: false, variableMapSize: true })
const pack = (v: unknown): Buffer => packr.pack(v)
const validBody = (): Buffer => v04Body([[spanData({ metrics: { _sampling_priority_v1: 1 }, metaStruct: { _llmobs: llmobsDoc('ok-trace') } })]])

/** A raw request (fetch cannot send a lying Content-Length or a chunked body on demand). */
function rawRequest (url: string, path: string, opts: { headers: Record<string, string | number>, chunks: Buffer[], method?: string }): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url + path, { method: opts.method ?? 'PUT', headers: opts.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    for (const c of opts.chunks) req.write(c)
    req.end()
  })
}

test('malformed trace payloads: 4xx with a reason, nothing stored, the server keeps serving', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const valid = validBody()
    const badLlmobsBin = pack([[{ trace_id: 1, span_id: 2, name: 'x', metrics: { _sampling_priority_v1: 1 }, meta_struct: { _llmobs: Buffer.from([0xc1]) } }]])
    const wrongShape = v04Body([
      [spanData({ metrics: { _sampling_priority_v1: 1 }, metaStruct: { _llmobs: llmobsDoc('would-be-stored') } })],
      [spanData({ metrics: { _sampling_priority_v1: 1 }, metaStruct: { _llmobs: { trace_id: 42 } } })],
    ])
    const cases: Array<[string, Buffer, number, RegExp]> = [
      ['empty', Buffer.alloc(0), 400, /empty body/],
      ['truncated', valid.subarray(0, valid.length - 7), 400, /invalid v0.4 payload/],
      ['reserved byte', Buffer.from([0x91, 0x91, 0xc1]), 400, /invalid v0.4 payload/],
      ['not an array', pack({ a: 1 }), 400, /body must be an array of chunks/],
      ['name not a string', pack([[{ name: 5 }]]), 400, /"name"/],
      ['meta not a map', pack([[{ meta: 'x' }]]), 400, /"meta"/],
      ['meta_struct value not bin', pack([[{ meta_struct: { _llmobs: { trace_id: 'x' } } }]]), 400, /must be bin/],
      ['absurd array length', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x90]), 400, /invalid v0.4 payload/],
      ['absurd str length', Buffer.from([0x91, 0x91, 0x81, 0xdb, 0xff, 0xff, 0xff, 0xf0, 0x61]), 400, /invalid v0.4 payload/],
      ['_llmobs not msgpack', badLlmobsBin, 400, /chunk 0 span 0: meta_struct._llmobs could not be decoded/],
      ['_llmobs wrong shape', wrongShape, 400, /chunk 1 span 0: meta_struct._llmobs: field "trace_id" must be a non-empty string/],
      ['trailing bytes', Buffer.concat([valid, Buffer.from([0x90])]), 400, /invalid v0.4 payload/],
    ]
    for (const [name, body, status, reason] of cases) {
      const r = await putTraces(agent.url, body)
      assert.equal(r.status, status, `${name}: ${r.body}`)
      assert.match((r.json as { error: string }).error, reason, name)
    }
    const v05 = await putTraces(agent.url, pack([['', 'a'], [[[1, 1, 1, 1n, 2n, 0n, 0n, 0n, 0, {}, {}]]]]), 'v0.5')
    assert.equal(v05.status, 400)
    assert.match((v05.json as { error: string }).error, /12 elements/)
    const wrongType = await putTraces(agent.url, valid, 'v0.4', { 'Content-Type': 'application/json' })
    assert.equal(wrongType.status, 415)
    const noType = await request(agent.url, '/v0.4/traces', { method: 'PUT', body: valid })
    assert.equal(noType.status, 415)

    assert.deepEqual(await counters(agent.url), expected({ requests_rejected: cases.length + 3 }))
    assert.equal((await getJson<{ spans: unknown[] }>(agent.url, '/api/spans')).spans.length, 0)
    assert.equal((await getJson<{ chunks: unknown[] }>(agent.url, '/api/chunks')).chunks.length, 0)

    // A dropped chunk's _llmobs never reaches extraction, so even garbage there is accepted.
    const droppedGarbage = pack([[{ trace_id: 1, span_id: 2, name: 'x', metrics: { _sampling_priority_v1: -1 }, meta_struct: { _llmobs: Buffer.from([0xc1]) } }]])
    assert.equal((await putTraces(agent.url, droppedGarbage)).status, 200)
    assert.equal((await putTraces(agent.url, valid)).status, 200)
    assert.deepEqual(await counters(agent.url), expected({
      requests_rejected: cases.length + 3, payloads_received: 2, chunks_received: 2, chunks_dropped_sampling: 1, llmobs_extracted: 1,
    }))
  } finally {
    await agent.close()
  }
})

test('malformed LLMObs posts: invalid JSON, wrong types, wrong content type → 4xx, nothing stored', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const headers = { 'Content-Type': 'application/json', 'X-Datadog-EVP-Subdomain': 'llmobs-intake' }
    const post = (body: string, h: Record<string, string> = headers): ReturnType<typeof request> =>
      request(agent.url, '/evp_proxy/v2/api/v2/llmobs', { method: 'POST', headers: h, body })
    const good = spanEvent('t', '1')
    const cases: Array<[string, string, number, RegExp]> = [
      ['invalid JSON', '[{"spans": [', 400, /invalid JSON/],
      ['number', '42', 400, /body must be a list of envelopes/],
      ['span_id number', JSON.stringify([{ spans: [good, { ...good, span_id: 2 }] }]), 400, /envelope 0 span 1: field "span_id"/],
      ['metrics strings', JSON.stringify([{ spans: [{ ...good, metrics: { input_tokens: '3' } }] }]), 400, /"metrics" key "input_tokens"/],
      ['deep nesting', '['.repeat(100_000) + ']'.repeat(100_000), 400, /./],
    ]
    for (const [name, body, status, reason] of cases) {
      const r = await post(body)
      assert.equal(r.status, status, `${name}: ${r.body}`)
      assert.match((r.json as { error: string }).error, reason, name)
    }
    const wrongType = await post(JSON.stringify([{ spans: [good] }]), { ...headers, 'Content-Type': 'text/plain' })
    assert.equal(wrongType.status, 415)
    const badEval = await request(agent.url, '/evp_proxy/v2/api/intake/llm-obs/v2/eval-metric', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Datadog-EVP-Subdomain': 'api' }, body: '{"data": {"attributes": {"metrics": [{"label": 1}]}}}',
    })
    assert.equal(badEval.status, 400)
    assert.deepEqual(await counters(agent.url), expected({ requests_rejected: cases.length + 2 }))
    assert.equal((await getJson<{ spans: unknown[] }>(agent.url, '/api/spans')).spans.length, 0)
    assert.equal((await postEvp(agent.url, [good])).status, 202)
  } finally {
    await agent.close()
  }
})

test('oversized bodies: 413 from the declared length, while streaming, and after gzip; server keeps serving', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:', maxTraceBodyBytes: 4096, maxEvpBodyBytes: 2048 })
  try {
    const big = Buffer.alloc(10_000, 0x90)
    const declared = await rawRequest(agent.url, '/v0.4/traces', { headers: { 'Content-Type': 'application/msgpack', 'Content-Length': 50_000_000 }, chunks: [Buffer.alloc(100)] })
    assert.equal(declared.status, 413)
    assert.match(declared.body, /exceeds the limit of 4096 bytes/)
    const chunked = await rawRequest(agent.url, '/v0.4/traces', { headers: { 'Content-Type': 'application/msgpack', 'Transfer-Encoding': 'chunked' }, chunks: [big.subarray(0, 3000), big.subarray(3000, 6000)] })
    assert.equal(chunked.status, 413)
    const bomb = gzipSync(Buffer.alloc(1_000_000, 0x90))
    const gz = await putTraces(agent.url, bomb, 'v0.4', { 'Content-Encoding': 'gzip' })
    assert.equal(gz.status, 413)
    const evp = await request(agent.url, '/evp_proxy/v2/api/v2/llmobs', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Datadog-EVP-Subdomain': 'llmobs-intake' }, body: JSON.stringify([{ spans: [spanEvent('t', '1', { meta: { x: 'y'.repeat(3000) } })] }]),
    })
    assert.equal(evp.status, 413)
    const br = await putTraces(agent.url, Buffer.from([0x90]), 'v0.4', { 'Content-Encoding': 'br' })
    assert.equal(br.status, 415)
    // gzip within the cap is fine.
    assert.equal((await putTraces(agent.url, gzipSync(validBody()), 'v0.4', { 'Content-Encoding': 'gzip' })).status, 200)
    assert.deepEqual(await counters(agent.url), expected({ requests_rejected: 5, payloads_received: 1, chunks_received: 1, llmobs_extracted: 1 }))
    assert.equal((await request(agent.url, '/info')).status, 200)
  } finally {
    await agent.close()
  }
})

test('faults: status for the next N requests, applied before the body is read, counted apart', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:', maxTraceBodyBytes: 4096 })
  try {
    const set = await request(agent.url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path: '/v0.4/traces', status: 503, count: 3, delayMs: 0, reset: false }) })
    assert.equal(set.status, 200)
    assert.equal((set.json as { faults: unknown[] }).faults.length, 1)
    // Valid, invalid and oversized bodies alike: the fault answers before any of it is looked at.
    const r1 = await putTraces(agent.url, validBody())
    const r2 = await putTraces(agent.url, Buffer.from([0xc1]))
    const r3 = await rawRequest(agent.url, '/v0.4/traces', { headers: { 'Content-Type': 'application/msgpack', 'Content-Length': 50_000_000 }, chunks: [Buffer.alloc(10)] })
    assert.deepEqual([r1.status, r2.status, r3.status], [503, 503, 503])
    assert.deepEqual(r1.json, { error: 'injected fault' })
    assert.equal((await putTraces(agent.url, validBody())).status, 200)
    assert.deepEqual(await counters(agent.url), expected({ faults_injected: 3, payloads_received: 1, chunks_received: 1, llmobs_extracted: 1 }))
    assert.equal((await getJson<{ faults: unknown[] }>(agent.url, '/api/faults')).faults.length, 0)
  } finally {
    await agent.close()
  }
})

test('faults: delay then serve, 429 with Retry-After, connection reset, clear; never on the query API', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const setFault = async (spec: unknown): Promise<number> => (await request(agent.url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(spec) })).status
  try {
    // A delay-only fault then serves the request normally (the holding itself: next test).
    assert.equal(await setFault({ path: '/evp_proxy/', delayMs: 300 }), 200)
    assert.equal((await postEvp(agent.url, [spanEvent('slow', '1')])).status, 202)
    assert.deepEqual((await getJson<{ spans: Array<{ trace_id: string }> }>(agent.url, '/api/spans')).spans.map((s) => s.trace_id), ['slow'])

    assert.equal(await setFault({ path: '/v0.4/', status: 429, retryAfter: 2 }), 200)
    const limited = await putTraces(agent.url, validBody())
    assert.equal(limited.status, 429)
    assert.equal(limited.headers.get('retry-after'), '2')

    assert.equal(await setFault({ path: '/v0.4/traces', reset: true }), 200)
    await assert.rejects(putTraces(agent.url, validBody()))

    assert.equal(await setFault({ path: '/', status: 500, count: 5 }), 200)
    assert.equal((await request(agent.url, '/api/counters')).status, 200)
    assert.equal((await request(agent.url, '/info')).status, 500)
    assert.equal(await setFault({ clear: true }), 200)
    assert.equal((await request(agent.url, '/info')).status, 200)
    assert.equal(await setFault({ path: '/info', status: 500 }), 200)
    assert.equal((await request(agent.url, '/api/faults', { method: 'DELETE' })).status, 200)
    assert.equal((await request(agent.url, '/info')).status, 200)

    for (const bad of [{ path: 'v0.4' }, { path: '/x' }, { path: '/x', status: 99 }, { path: '/x', status: 500, count: 0 }, { path: '/x', delayMs: -1 }, [1]]) {
      assert.equal(await setFault(bad), 400, JSON.stringify(bad))
    }
    assert.deepEqual(await counters(agent.url), expected({ faults_injected: 4, payloads_received: 1, llmobs_evp: 1, requests_rejected: 6 }))
  } finally {
    await agent.close()
  }
})

test('a delay fault holds the request: unanswered and nothing stored while it runs, the query API still served', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  let answered = false
  let held: Promise<unknown> | undefined
  try {
    // Far longer than the test: the request is certainly still held when we look.
    const set = await request(agent.url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path: '/evp_proxy/', delayMs: 60_000 }) })
    assert.equal(set.status, 200)
    held = postEvp(agent.url, [spanEvent('held', '1')]).then(() => { answered = true }, () => {})
    await waitFor(async () => (await counters(agent.url)).faults_injected === 1, 30_000, 'the fault to take the request')
    assert.equal(answered, false)
    assert.deepEqual((await getJson<{ spans: unknown[] }>(agent.url, '/api/spans')).spans, [])
    assert.deepEqual(await counters(agent.url), expected({ faults_injected: 1 }))
  } finally {
    // Closing ends the delay: the held request is dropped, not served.
    await agent.close()
    await held
  }
  assert.equal(answered, false)
})

test('faults + our tracer: two 503s are retried by the tracer and the payload is stored once', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const tracer = new Tracer({ url: agent.url, service: 'svc', flushIntervalMs: 60_000 })
  try {
    const set = await request(agent.url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path: '/v0.4/traces', status: 503, count: 2 }) })
    assert.equal(set.status, 200)
    tracer.trace('root', (span) => { span.setMetaStruct('_llmobs', llmobsDoc('retried')) })
    await tracer.flush()
    assert.deepEqual(await counters(agent.url), expected({ faults_injected: 2, payloads_received: 1, chunks_received: 1, llmobs_extracted: 1 }))
    assert.deepEqual((await getJson<{ spans: Array<{ trace_id: string }> }>(agent.url, '/api/spans')).spans.map((s) => s.trace_id), ['retried'])
  } finally {
    await tracer.shutdown()
    await agent.close()
  }
})
