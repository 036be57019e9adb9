import { test, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { gzipSync } from 'node:zlib'
import { startAgent } from '../../src/agent/start_agent.js'
import { decodeStatus, decodeTracesResponse, encodeTracesRequest } from '../../src/encode/otlp/index.js'
import type { OtlpEncoding, OtlpTracesRequest } from '../../src/encode/otlp/otlp_types.js'
import { expected, getJson, resetAgent } from '../helpers/agent_client.js'
import { CHAT_ATTRS, T0, otlpRequest, otlpSpan } from '../helpers/otlp_values.js'

/** The OTLP intake's HTTP contract: encodings, refusals with reasons, partial success, de-duplication. */
const agent = await startAgent({ port: 0, otlpPort: 0, db: ':memory:', maxTraceBodyBytes: 64 * 1024 })
const base = agent.otlpUrl as string
after(() => agent.close())
beforeEach(async () => { await resetAgent(agent.url) })

const TYPES: Record<OtlpEncoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' }

async function post (body: Uint8Array | string, contentType: string, headers: Record<string, string> = {}, path = '/v1/traces'): Promise<{ status: number, type: string | null, bytes: Uint8Array }> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': contentType, ...headers }, body })
  return { status: res.status, type: res.headers.get('content-type'), bytes: new Uint8Array(await res.arrayBuffer()) }
}

function send (req: OtlpTracesRequest, enc: OtlpEncoding, headers: Record<string, string> = {}): ReturnType<typeof post> {
  return post(encodeTracesRequest(req, enc), TYPES[enc], headers)
}

function traceHex (n: number): string { return n.toString(16).padStart(32, 'a') }

for (const enc of ['protobuf', 'json'] as const) {
  test(`${enc}: a full success is an empty response in the request's content type; the span is stored`, async () => {
    const r = await send(otlpRequest([otlpSpan(traceHex(1), { attrs: CHAT_ATTRS })]), enc)
    assert.equal(r.status, 200)
    assert.equal(r.type, TYPES[enc])
    const answer = decodeTracesResponse(r.bytes, enc)
    assert.ok(answer.ok)
    assert.equal(answer.value.partialSuccess, undefined)
    if (enc === 'protobuf') assert.equal(r.bytes.byteLength, 0)
    assert.equal(agent.store.queries.countSpans(), 1)
  })

  test(`${enc}: spans with bad ids or ending before they start are a partial success; the others are stored`, async () => {
    const trace = traceHex(2)
    const req = otlpRequest([
      otlpSpan(trace, { name: 'good', attrs: CHAT_ATTRS }),
      otlpSpan(trace, { name: 'backwards', startTimeUnixNano: T0 + 10n, endTimeUnixNano: T0, attrs: CHAT_ATTRS }),
    ])
    const r = await send(req, enc)
    assert.equal(r.status, 200)
    assert.equal(r.type, TYPES[enc])
    const answer = decodeTracesResponse(r.bytes, enc)
    assert.ok(answer.ok)
    assert.equal(answer.value.partialSuccess?.rejectedSpans, 1n)
    assert.match(answer.value.partialSuccess?.errorMessage ?? '', /span "backwards": ends before it starts/)
    const spans = (await getJson<{ spans: Array<{ name: string }> }>(agent.url, '/api/spans')).spans
    assert.deepEqual(spans.map((s) => s.name), ['good'])
    assert.equal(agent.counters().otlp_spans_rejected, 1)
  })

  test(`${enc}: an undecodable body is a 400 whose Status says why, in the request's encoding`, async () => {
    const garbage = enc === 'json' ? '{"resourceSpans": [' : new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])
    const r = await post(garbage, TYPES[enc])
    assert.equal(r.status, 400)
    assert.equal(r.type, TYPES[enc])
    const status = decodeStatus(r.bytes, enc)
    assert.ok(status.ok, 'a google.rpc.Status body')
    assert.equal(status.value.code, 3)
    assert.match(status.value.message, new RegExp(`^invalid OTLP ${enc} traces request: .+`))
    assert.deepEqual(agent.counters(), expected({ requests_rejected: 1, otlp_decode_errors: 1 }))
  })

  test(`${enc}: gzip bodies are read; the cap applies after decompression too (413)`, async () => {
    const small = encodeTracesRequest(otlpRequest([otlpSpan(traceHex(3), { attrs: CHAT_ATTRS })]), enc)
    const ok = await post(gzipSync(small), TYPES[enc], { 'Content-Encoding': 'gzip' })
    assert.equal(ok.status, 200)
    assert.equal(agent.store.queries.countSpans(), 1)
    // 200 KiB of attribute text: well under the 64 KiB cap once gzipped, over it inflated.
    const big = encodeTracesRequest(otlpRequest([otlpSpan(traceHex(4), { attrs: { ...CHAT_ATTRS, 'app.blob': 'x'.repeat(200 * 1024) } })]), enc)
    const packed = gzipSync(big)
    assert.ok(packed.byteLength < 64 * 1024)
    const r = await post(packed, TYPES[enc], { 'Content-Encoding': 'gzip' })
    assert.equal(r.status, 413)
    const status = decodeStatus(r.bytes, enc)
    assert.ok(status.ok)
    assert.match(status.value.message, /gzip-decoded body exceeds the limit of 65536 bytes/)
    const plain = await post(big, TYPES[enc])
    assert.equal(plain.status, 413)
    assert.equal(agent.store.queries.countSpans(), 1)
  })

  test(`${enc}: the same span sent twice is stored once`, async () => {
    const req = otlpRequest([otlpSpan(traceHex(5), { attrs: CHAT_ATTRS })])
    assert.equal((await send(req, enc)).status, 200)
    assert.equal((await send(req, enc)).status, 200)
    assert.equal(agent.store.queries.countSpans(), 1)
    const c = agent.counters()
    assert.equal(c.llmobs_otlp, 2)
    assert.equal(c.duplicates_suppressed, 1)
  })
}

test('Content-Type: parameters are tolerated; anything else is a 415 with the reason', async () => {
  const body = encodeTracesRequest(otlpRequest([otlpSpan(traceHex(6), { attrs: CHAT_ATTRS })]), 'json')
  assert.equal((await post(body, 'application/json; charset=utf-8')).status, 200)
  for (const type of ['text/plain', 'application/protobuf', 'application/grpc', '']) {
    const r = await post(body, type)
    assert.equal(r.status, 415, type)
    assert.match(new TextDecoder().decode(r.bytes), /Content-Type must be application\/x-protobuf or application\/json/)
  }
  assert.equal(agent.counters().requests_rejected, 4)
})

test('an empty request is a success; GET is a 405, other paths 404, logs and metrics a quiet success', async () => {
  for (const enc of ['protobuf', 'json'] as const) {
    const r = await send({ resourceSpans: [] }, enc)
    assert.equal(r.status, 200, enc)
    assert.ok(decodeTracesResponse(r.bytes, enc).ok)
  }
  assert.equal((await fetch(`${base}/v1/traces`)).status, 405)
  assert.equal((await fetch(`${base}/v0.4/traces`, { method: 'PUT' })).status, 404)
  const metrics = await post(new Uint8Array(0), 'application/x-protobuf', {}, '/v1/metrics')
  assert.equal(metrics.status, 200)
  assert.equal(metrics.type, 'application/x-protobuf')
  assert.equal(agent.counters().requests_quiet, 1)
  assert.equal(agent.store.queries.countSpans(), 0)
})

test('a span opted out with dd_llmobs_enabled=false (span or resource) is no LLMObs span; its trace is still summarised', async () => {
  const trace = traceHex(7)
  await send(otlpRequest([otlpSpan(trace, { attrs: { ...CHAT_ATTRS, dd_llmobs_enabled: false } })]), 'json')
  await send(otlpRequest([otlpSpan(traceHex(8), { attrs: CHAT_ATTRS })], { 'service.name': 's', dd_llmobs_enabled: 'false' }), 'protobuf')
  assert.equal(agent.store.queries.countSpans(), 0)
  assert.equal(agent.counters().otlp_spans_opted_out, 2)
  const chunks = (await getJson<{ chunks: Array<{ trace_id: string }> }>(agent.url, `/api/chunks?trace_id=${trace}`)).chunks
  assert.equal(chunks.length, 1)
})

test('the Host guard protects the OTLP port too', async () => {
  const { request } = await import('node:http')
  const url = new URL(base)
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: '/v1/traces', method: 'POST', headers: { Host: 'evil.example', 'Content-Type': 'application/json' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', reject)
    req.end('{}')
  })
  assert.equal(status, 403)
  assert.equal(agent.store.queries.countSpans(), 0)
})

test('startAgent: otlpPort false or LLMOBS_AGENT_OTLP_PORT=off serve no OTLP; a taken chosen port fails the start', async () => {
  const off = await startAgent({ port: 0, otlpPort: false, db: ':memory:' })
  assert.equal(off.otlpUrl, undefined)
  await off.close()
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  const taken = (blocker.address() as { port: number }).port
  try {
    await assert.rejects(startAgent({ port: 0, otlpPort: taken, db: ':memory:', logger: { info: () => {}, warn: () => {} } }), /EADDRINUSE/)
    process.env.LLMOBS_AGENT_OTLP_PORT = 'off'
    const fromEnv = await startAgent({ port: 0, db: ':memory:' })
    delete process.env.LLMOBS_AGENT_OTLP_PORT
    assert.equal(fromEnv.otlpUrl, undefined, 'LLMOBS_AGENT_OTLP_PORT=off')
    await fromEnv.close()
  } finally {
    delete process.env.LLMOBS_AGENT_OTLP_PORT
    blocker.close()
  }
})

test('startAgent: an agent on an ephemeral port takes an ephemeral OTLP port (tests never contend for 4318)', async () => {
  const a = await startAgent({ port: 0, db: ':memory:' })
  const b = await startAgent({ port: 0, db: ':memory:' })
  try {
    assert.ok(a.otlpPort !== undefined && b.otlpPort !== undefined)
    assert.notEqual(a.otlpPort, 4318)
    assert.notEqual(a.otlpPort, b.otlpPort)
    assert.equal(a.otlpNotStarted, undefined)
    const res = await fetch(`${a.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    assert.equal(res.status, 200)
  } finally {
    await a.close()
    await b.close()
  }
})
